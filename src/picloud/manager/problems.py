"""Errors as RFC 9457 problem documents (`application/problem+json`).

Every failure PiCloud answers, in the admin API and on the data plane, is a `Problem`: a stable
`type` URI per kind of failure, a short `title` that never changes for that kind, the HTTP
`status`, a `detail` sentence about this occurrence, and extra fields a client can act on
(`field` for validation, `line`/`column` for compile errors, `conflict` for route clashes...).

`ProblemKind`, `Problem` and the kinds shared with the data plane (not found, method not
allowed, unauthenticated, forbidden) live in `picloud.core.problems`; this module adds the admin
API's own kinds and renders a problem as a Starlette response::

    >>> NOT_FOUND("no script 'x'").to_dict()["type"]
    'https://picloud.dev/problems/not-found'
"""

from __future__ import annotations

import json

from starlette.responses import Response

from picloud.core.problems import (
    FORBIDDEN,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PROBLEM_CONTENT_TYPE,
    UNAUTHENTICATED,
    Problem,
    ProblemKind,
    problem_kinds_markdown,
)


def problem_response(problem: Problem) -> Response:
    """The problem as the HTTP answer of an admin API handler."""
    return Response(
        json.dumps(problem.to_dict(), default=str).encode(),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_CONTENT_TYPE,
    )


# Request shape and plumbing
VALIDATION = ProblemKind(
    "validation",
    422,
    "Invalid request",
    "The body, query or path does not fit the documented schema; `field` names the first bad "
    "one and `errors` lists them all.",
)
INTERNAL = ProblemKind(
    "internal",
    500,
    "Internal error",
    "A bug on the server; the detail is generic and the traceback is in the server log.",
)
DATABASE_UNAVAILABLE = ProblemKind(
    "database-unavailable",
    503,
    "Database unavailable",
    "The database cannot be reached right now; nothing was changed. Retry after `Retry-After`.",
)
STORAGE_FULL = ProblemKind(
    "storage-full",
    507,
    "Storage full",
    "The database's disk is full; nothing was changed.",
)

# Authentication and authorization
INVALID_CREDENTIALS = ProblemKind(
    "invalid-credentials",
    401,
    "Wrong username or password",
    "Login failed; the answer does not say which of the two was wrong.",
)
CSRF_FAILED = ProblemKind(
    "csrf-failed",
    403,
    "CSRF token missing or wrong",
    "A cookie-authenticated unsafe request without the session's `X-CSRF-Token` header.",
)
RATE_LIMITED = ProblemKind(
    "rate-limited",
    429,
    "Too many failed logins",
    "Too many failed logins for this user name or client address; see `Retry-After`.",
)
SETUP_TOKEN_INVALID = ProblemKind(
    "setup-token-invalid",
    403,
    "Setup token invalid",
    "The one-time setup token is wrong, or no setup is pending.",
)

# Apps
SLUG_INVALID = ProblemKind(
    "slug-invalid",
    422,
    "Invalid slug",
    "The slug breaks a rule (pattern or reserved word); `rule` names it.",
)
SLUG_TAKEN = ProblemKind(
    "slug-taken", 409, "Slug taken", "Another app uses this slug now; `app` names it."
)
SLUG_HISTORICAL = ProblemKind(
    "slug-historical",
    409,
    "Slug held in another app's history",
    "Another app used this slug before and still redirects it; repeat the rename with "
    '`"force_takeover": true` to take it.',
)
APP_HAS_SCRIPTS = ProblemKind(
    "app-has-scripts",
    409,
    "App still has scripts",
    "Deleting an app with scripts needs `?force=true`; `script_count` says how many.",
)

# Domains
DOMAIN_INVALID = ProblemKind(
    "domain-invalid", 422, "Invalid domain pattern", "The claim pattern cannot be used."
)
DOMAIN_CONFLICT = ProblemKind(
    "domain-conflict",
    409,
    "Domain already claimed",
    "A claim with the same shape exists; `conflict` names it and its app.",
)

# Scripts
SCRIPT_NAME_TAKEN = ProblemKind(
    "script-name-taken", 409, "Script name taken", "The app already has a script with this name."
)
SOURCE_INVALID = ProblemKind(
    "source-invalid",
    422,
    "Script does not compile",
    "The source does not compile or lacks the handler; `line` and `column` point at it.",
)
LIMIT_INVALID = ProblemKind(
    "limit-invalid",
    422,
    "Invalid limit",
    "A limit is unknown, not a whole number or below its minimum; `field` names it.",
)
LIMIT_EXCEEDED = ProblemKind(
    "limit-exceeded",
    422,
    "Limit above the ceiling",
    "A limit exceeds the operator's ceiling; `field`, `value` and `ceiling` say by how much.",
)

# Routes
ROUTE_INVALID = ProblemKind(
    "route-invalid",
    422,
    "Invalid route",
    "The method, host or path cannot be used (reserved prefixes included); `field` names it.",
)
HOST_NOT_COVERED = ProblemKind(
    "host-not-covered",
    422,
    "Host not claimed by the app",
    "A strict or wildcard route host lies outside every domain the app claims.",
)
ROUTE_CONFLICT = ProblemKind(
    "route-conflict",
    409,
    "Route conflicts with an existing route",
    "The app already has a route for the same binding; `conflict` is that route.",
)

# Executions
CURSOR_INVALID = ProblemKind(
    "cursor-invalid", 422, "Invalid cursor", "The pagination cursor was not produced by this API."
)

# Admin users
USERNAME_TAKEN = ProblemKind("username-taken", 409, "User name taken", "The user name is in use.")
LAST_OWNER = ProblemKind(
    "last-owner",
    409,
    "Last active owner",
    "The change would leave the instance without an active owner.",
)
PASSWORD_INVALID = ProblemKind(
    "password-invalid", 422, "Password not acceptable", "The password is too short or too long."
)

#: Every kind the admin API can answer with, in the order docs/api.md lists them.
ADMIN_PROBLEM_KINDS: tuple[ProblemKind, ...] = (
    VALIDATION, NOT_FOUND, METHOD_NOT_ALLOWED, INTERNAL, DATABASE_UNAVAILABLE, STORAGE_FULL,
    UNAUTHENTICATED, INVALID_CREDENTIALS, FORBIDDEN, CSRF_FAILED, RATE_LIMITED,
    SETUP_TOKEN_INVALID,
    SLUG_INVALID, SLUG_TAKEN, SLUG_HISTORICAL, APP_HAS_SCRIPTS,
    DOMAIN_INVALID, DOMAIN_CONFLICT,
    SCRIPT_NAME_TAKEN, SOURCE_INVALID, LIMIT_INVALID, LIMIT_EXCEEDED,
    ROUTE_INVALID, HOST_NOT_COVERED, ROUTE_CONFLICT,
    CURSOR_INVALID,
    USERNAME_TAKEN, LAST_OWNER, PASSWORD_INVALID,
)  # fmt: skip


def admin_problem_kinds_markdown() -> str:
    """The table of the admin API's problem types in docs/api.md (a test keeps them equal)."""
    return problem_kinds_markdown(ADMIN_PROBLEM_KINDS)
