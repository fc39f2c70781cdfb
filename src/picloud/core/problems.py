"""RFC 9457 problem details: the one error shape of the admin API and the data plane.

Each kind of failure has a stable `type` URI that clients may switch on, a title that never
changes for that kind, and a status. The kinds both planes answer with, and the data plane's own,
are declared here; the admin API adds its kinds in `picloud.manager.problems`::

    >>> HOST_NOT_CLAIMED.body("no app claims host 'x'")
    {'type': 'https://picloud.dev/problems/host-not-claimed', 'title': 'Host not claimed', \
'status': 404, 'detail': "no app claims host 'x'"}
    >>> NOT_FOUND("no script 'x'").to_dict()["type"]
    'https://picloud.dev/problems/not-found'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PROBLEM_BASE = "https://picloud.dev/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_type(kind: str) -> str:
    return PROBLEM_BASE + kind


def problem_body(status: int, kind: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The JSON object of one problem; `extra` fields whose value is None are left out."""
    body: dict[str, Any] = {
        "type": problem_type(kind),
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """One kind of failure: its `type` slug, status and title are part of the API contract."""

    name: str
    status: int
    title: str
    meaning: str  # one sentence for the docs

    @property
    def type(self) -> str:
        return problem_type(self.name)

    def body(self, detail: str, **fields: Any) -> dict[str, Any]:
        return problem_body(self.status, self.name, self.title, detail, **fields)

    def __call__(
        self, detail: str, *, headers: Mapping[str, str] | None = None, **fields: Any
    ) -> Problem:
        return Problem(self, detail, headers=headers, **fields)


class Problem(Exception):
    """An error answer; raise it below an admin API handler and the API renders it."""

    def __init__(
        self,
        kind: ProblemKind,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **fields: Any,
    ):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.headers = dict(headers or {})
        self.fields = fields

    @property
    def status(self) -> int:
        return self.kind.status

    def to_dict(self) -> dict[str, Any]:
        return self.kind.body(self.detail, **self.fields)


# Shared by the admin API and the data plane
NOT_FOUND = ProblemKind(
    "not-found",
    404,
    "Not found",
    "No such resource, or it belongs to an app this credential may not see.",
)
METHOD_NOT_ALLOWED = ProblemKind(
    "method-not-allowed",
    405,
    "Method not allowed",
    "The path exists but not with this method; `Allow` lists the methods that are.",
)
UNAUTHENTICATED = ProblemKind(
    "unauthenticated",
    401,
    "Authentication required",
    "No valid session cookie or bearer token (missing, unknown, expired or revoked).",
)
FORBIDDEN = ProblemKind(
    "forbidden",
    403,
    "Not allowed",
    "The credential is valid but lacks the scope (or role) for this action; `required` names "
    "the scope.",
)

# The data plane's own (each carries `execution_id`, also sent as X-PiCloud-Execution-Id)
HOST_NOT_CLAIMED = ProblemKind(
    "host-not-claimed", 404, "Host not claimed", "No app claims the request's Host."
)
NO_ROUTE = ProblemKind(
    "no-route", 404, "No route", "The app that claims the host has no route for this path."
)
REQUEST_TIMEOUT = ProblemKind(
    "request-timeout",
    408,
    "Request timeout",
    "The request body did not arrive in time; the script did not run.",
)
OVERLOADED = ProblemKind(
    "overloaded",
    503,
    "Overloaded",
    "The concurrency gate or the script's own concurrency limit is full; see `Retry-After`.",
)
REQUEST_TOO_LARGE = ProblemKind(
    "request-too-large",
    413,
    "Request too large",
    "The body exceeds the script's `max_request_bytes`; the script did not run.",
)
SCRIPT_ERROR = ProblemKind(
    "script-error",
    500,
    "script error",
    "The handler raised; the traceback is in the execution record only.",
)
SCRIPT_TIMEOUT = ProblemKind(
    "script-timeout", 504, "script timeout", "The script did not answer within `timeout_ms`."
)
SCRIPT_MEMORY = ProblemKind(
    "script-memory", 507, "script memory limit", "The script exceeded its `memory_mb`."
)
SCRIPT_CRASHED = ProblemKind(
    "script-crashed",
    502,
    "script crashed",
    "The script's worker died before it answered (exit, signal); the next request gets a "
    "fresh worker.",
)
INVALID_RESPONSE = ProblemKind(
    "invalid-response",
    502,
    "invalid response",
    "The handler returned something that is not a response, or a body over "
    "`max_response_bytes`; the record says which.",
)

#: The kind a failed execution answers with, by its outcome.
OUTCOME_PROBLEMS: dict[str, ProblemKind] = {
    "error": SCRIPT_ERROR,
    "timeout": SCRIPT_TIMEOUT,
    "memory": SCRIPT_MEMORY,
    "crashed": SCRIPT_CRASHED,
    "invalid_response": INVALID_RESPONSE,
}

#: Every kind the data plane can answer with, in the order docs/api.md lists them.
DATA_PLANE_PROBLEM_KINDS: tuple[ProblemKind, ...] = (
    HOST_NOT_CLAIMED,
    NO_ROUTE,
    METHOD_NOT_ALLOWED,
    REQUEST_TOO_LARGE,
    REQUEST_TIMEOUT,
    OVERLOADED,
    UNAUTHENTICATED,
    FORBIDDEN,
    NOT_FOUND,
    *OUTCOME_PROBLEMS.values(),
)


def problem_kinds_markdown(kinds: tuple[ProblemKind, ...]) -> str:
    """A table of problem types for the docs (tests keep docs/api.md equal to it)."""
    lines = ["| `type` (after `" + problem_type("") + "`) | status | title | meaning |"]
    lines.append("| --- | --- | --- | --- |")
    lines += [f"| `{k.name}` | {k.status} | {k.title} | {k.meaning} |" for k in kinds]
    return "\n".join(lines) + "\n"
