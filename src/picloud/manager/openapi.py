"""OpenAPI details FastAPI does not produce by itself: problem+json error answers.

Each operation declares the problem kinds it can answer with (`problems(...)`); after FastAPI
builds the document, `problem_json_openapi` moves every error answer to the
`application/problem+json` media type and drops FastAPI's own validation-error schemas, which
this API never sends.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from picloud.core.problems import PROBLEM_CONTENT_TYPE
from picloud.manager.problems import (
    CSRF_FAILED,
    DATABASE_UNAVAILABLE,
    FORBIDDEN,
    INTERNAL,
    NOT_FOUND,
    STORAGE_FULL,
    UNAUTHENTICATED,
    VALIDATION,
    ProblemKind,
)
from picloud.manager.wire import ProblemBody

#: Any authenticated read.
READ = (UNAUTHENTICATED, FORBIDDEN)
#: Any authenticated write (a cookie session also needs the CSRF token).
WRITE = (UNAUTHENTICATED, FORBIDDEN, CSRF_FAILED, VALIDATION)
#: A target named in the path or body.
TARGET = (NOT_FOUND,)


def problems(*groups: ProblemKind | tuple[ProblemKind, ...]) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry for the problem kinds an operation can answer with."""
    by_status: dict[int, list[ProblemKind]] = defaultdict(list)
    for group in groups:
        for kind in group if isinstance(group, tuple) else (group,):
            if kind not in by_status[kind.status]:
                by_status[kind.status].append(kind)
    return {
        status: {
            "model": ProblemBody,
            "description": "; ".join(f"`{k.name}`: {k.title}" for k in kinds),
        }
        for status, kinds in sorted(by_status.items())
    }


REDIRECT = {
    308: {
        "description": "The app was named by an old slug: the same URL with the current slug.",
        "headers": {"Location": {"schema": {"type": "string"}}},
    }
}


def problem_json_openapi(app: FastAPI) -> dict[str, Any]:
    """Build (once) and return the OpenAPI document with problem+json error answers."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            # Any operation may meet an unreachable or full database, or a bug.
            for kind in (INTERNAL, DATABASE_UNAVAILABLE, STORAGE_FULL):
                operation["responses"].setdefault(
                    str(kind.status),
                    {
                        "description": f"`{kind.name}`: {kind.title}",
                        "content": {"application/json": {}},
                    },
                )
            for status, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if status.isdigit() and int(status) >= 400 and content:
                    schema = {"$ref": "#/components/schemas/ProblemBody"}
                    answer["content"] = {PROBLEM_CONTENT_TYPE: {"schema": schema}}
                if status == "422" and answer.get("description") == "Validation Error":
                    answer["description"] = f"`{VALIDATION.name}`: {VALIDATION.title}"
                if status == "429":
                    answer["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    schemas = document.get("components", {}).get("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    app.openapi_schema = document
    return document
