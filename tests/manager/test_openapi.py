"""The served OpenAPI document: complete (problem+json everywhere an error can come from), and
true to the API, checked by Schemathesis with a bounded number of generated requests."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from picloud.manager.api import create_admin_api
from picloud.manager.auth import SCOPES

OPENAPI = "/api/v1/openapi.json"
PROBLEM_JSON = "application/problem+json"


def test_the_document_and_the_interactive_docs_are_served(api):
    document = api.get(OPENAPI)
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "PiCloud admin API"
    docs = api.get("/api/v1/docs")
    assert docs.status_code == 200
    assert OPENAPI in docs.text


def test_every_error_answer_is_documented_as_problem_json(api):
    document = api.get(OPENAPI).json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            if not path.endswith(("/login", "/setup")):
                assert "401" in statuses, f"{method} {path}"
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    assert list(answer["content"]) == [PROBLEM_JSON], f"{method} {path} {status}"
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["ProblemBody"]["required"]) == {"type", "title", "status", "detail"}


def test_unknown_paths_and_methods_are_problems_too(as_owner):
    missing = as_owner.get("/api/v1/admin/nothing")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_JSON
    wrong = as_owner.put("/api/v1/admin/apps")
    assert wrong.status_code == 405
    assert wrong.json()["type"] == "https://picloud.dev/problems/method-not-allowed"


def test_text_no_database_can_store_is_refused(as_owner):
    body = as_owner.post("/api/v1/admin/apps", json={"slug": "x", "name": "a\x00b"})
    assert (body.status_code, body.json()["field"]) == (422, "name")
    path = as_owner.get("/api/v1/admin/apps/a%00b")
    assert path.status_code == 422


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: Generated requests per operation and mode (positive and negative), per database.
EXAMPLES = 15


def test_generated_requests_get_documented_answers_and_no_5xx(ctx, mint, make_app, make_script):
    make_app("shop")
    make_script("shop")
    # An all-scopes key rather than a session: a generated logout must not end the run's access.
    key = mint(list(SCOPES))
    schema = schemathesis.openapi.from_asgi(OPENAPI, create_admin_api(ctx))
    # The stream never ends by itself; its refusals are covered by the matrix test.
    schema = schema.exclude(path_regex=r"/logs/stream$")
    headers = {"Authorization": key.headers["authorization"]}
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def call(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                call()
            except Unsatisfiable:
                pass  # nothing to make invalid (no body, only free-text path parameters)
            except Exception as exc:  # collect every operation's failure, then report them all
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
