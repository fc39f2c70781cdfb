"""RFC 9457 problem details: the one error shape of the admin API and the data plane.

Each kind of failure has a stable `type` URI that clients may switch on::

    >>> problem_body(404, "host-not-claimed", "Not Found", "no app claims host 'x'")
    {'type': 'https://picloud.dev/problems/host-not-claimed', 'title': 'Not Found', \
'status': 404, 'detail': "no app claims host 'x'"}
"""

from __future__ import annotations

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
