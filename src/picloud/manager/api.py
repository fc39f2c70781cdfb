"""The admin API as one FastAPI application.

It serves every path under `/api/v1/admin/`, the OpenAPI document at `/api/v1/openapi.json` and
interactive docs at `/api/v1/docs`; the composition root hands it requests for those prefixes
unchanged. Every failure, FastAPI's own validation errors included, is answered as
`application/problem+json`.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from picloud import __version__
from picloud.manager.context import ManagerContext
from picloud.manager.dependencies import Redirect
from picloud.manager.openapi import problem_json_openapi
from picloud.manager.problems import (
    DATABASE_UNAVAILABLE,
    INTERNAL,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    STORAGE_FULL,
    VALIDATION,
    Problem,
    ProblemKind,
    problem_response,
)
from picloud.manager.routers import api_keys, apps, auth, executions, routes, scripts, users
from picloud.manager.wire import storable_text_problem

logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/api/v1/admin"
OPENAPI_URL = "/api/v1/openapi.json"
DOCS_URL = "/api/v1/docs"

DESCRIPTION = """\
The control plane of PiCloud: apps, domains, scripts, routes, execution logs, admin users and
API keys.

Authenticate with `Authorization: Bearer <token>`, where the token is a session token from
`POST /api/v1/admin/auth/login` or an API key (`pic_...`). The dashboard's session cookie works
too; unsafe requests made with the cookie must carry the `X-CSRF-Token` header.

Errors are `application/problem+json` with a stable `type` per kind of failure.
"""


def _field_of(location: tuple[str | int, ...]) -> str:
    # ("body", "limits", "timeout_ms") -> "limits.timeout_ms"; ("query", "limit") -> "limit"
    parts = location[1:] if location and location[0] in ("body", "query", "path") else location
    return ".".join(str(p) for p in parts) or str(location[0] if location else "body")


def validation_problem(exc: RequestValidationError) -> Problem:
    errors = [
        {"field": _field_of(tuple(e.get("loc", ()))), "message": e.get("msg", "")}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    return VALIDATION(f"{first['field']}: {first['message']}", field=first["field"], errors=errors)


def refuse_unstorable_text(request: Request) -> None:
    """Path and query values end up in queries; refuse what no database can compare."""
    values = [("path", request.url.path), *request.query_params.multi_items()]
    for name, value in values:
        problem = storable_text_problem(value)
        if problem:
            raise VALIDATION(f"{name} {problem}", field=name)


def _http_problem(exc: HTTPException) -> Problem:
    if exc.status_code == 400:  # a body FastAPI could not even parse
        return VALIDATION(f"body: {exc.detail}", field="body")
    if exc.status_code == 404:
        return NOT_FOUND("no such endpoint")
    if exc.status_code == 405:
        return METHOD_NOT_ALLOWED("this endpoint does not take that method", headers=exc.headers)
    kind = ProblemKind("http-error", exc.status_code, "HTTP error", "")
    return kind(str(exc.detail), headers=exc.headers)


def crash_problem(exc: Exception) -> Problem:
    """What an unexpected failure tells the caller: the database's state when that is the cause
    (every write is one transaction, so nothing was half-done), else a generic 500."""
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        if "disk is full" in str(exc.orig) or "No space left" in str(exc.orig):
            return STORAGE_FULL("the database's disk is full; free space and retry")
        return DATABASE_UNAVAILABLE(
            "the database cannot be reached; retry shortly", headers={"Retry-After": "5"}
        )
    return INTERNAL("the server failed; the traceback is in its log")


def create_admin_api(ctx: ManagerContext) -> FastAPI:
    """The FastAPI application of the admin API, bound to `ctx`."""
    app = FastAPI(
        title="PiCloud admin API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=OPENAPI_URL,
        docs_url=DOCS_URL,
        redoc_url=None,
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.state.manager = ctx
    for module in (auth, users, api_keys, apps, scripts, routes, executions):
        app.include_router(module.router, prefix=ADMIN_PREFIX)

    @app.exception_handler(Problem)
    async def on_problem(_request: Request, exc: Problem) -> Response:
        return problem_response(exc)

    @app.exception_handler(Redirect)
    async def on_redirect(_request: Request, exc: Redirect) -> Response:
        return RedirectResponse(exc.location, status_code=308)

    @app.exception_handler(RequestValidationError)
    async def on_validation(_request: Request, exc: RequestValidationError) -> Response:
        return problem_response(validation_problem(exc))

    @app.exception_handler(HTTPException)
    async def on_http(_request: Request, exc: HTTPException) -> Response:
        return problem_response(_http_problem(exc))

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> Response:
        logger.error("admin API %s %s failed", request.method, request.url.path, exc_info=exc)
        return problem_response(crash_problem(exc))

    app.openapi = lambda: problem_json_openapi(app)
    return app
