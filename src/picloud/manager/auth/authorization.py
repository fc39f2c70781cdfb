"""The one place that decides what a caller may do.

Every admin endpoint and `/api/v1/execute/{script_id}` ask `authorize(principal, action,
app_id)`, where `action` is a scope from the fixed vocabulary (or None: any signed-in caller,
for `auth/me` and `auth/logout`) and `app_id` is the app the target resource belongs to (None
for instance-wide actions such as creating an app or managing users).
Per-app roles will slot in here without touching any endpoint.

The rules, in order:
1. no principal -> 401;
2. an admin user's session (role owner or admin) may do everything;
3. a key bound to one app gets 404 for any other app's resources, so it never learns they exist,
   and 403 for instance-wide actions;
4. a key without the action among its scopes gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from picloud.manager.auth.principal import SCOPES, Principal
from picloud.manager.problems import (
    FORBIDDEN,
    NOT_FOUND,
    UNAUTHENTICATED,
    Problem,
    ProblemKind,
)


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer of `authorize`: allowed, or the status and problem kind to refuse with."""

    allowed: bool
    status: int = 200
    detail: str = ""
    kind: ProblemKind | None = None
    required: str | None = None

    def problem(self) -> Problem:
        assert self.kind is not None, "an allowed decision has no problem"
        extra = {"required": self.required} if self.required else {}
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return self.kind(self.detail, headers=headers, **extra)

    def enforce(self) -> None:
        """Raise the refusal as a Problem; do nothing when allowed."""
        if not self.allowed:
            raise self.problem()


ALLOWED = Decision(allowed=True)


def _refuse(kind: ProblemKind, detail: str, required: str | None = None) -> Decision:
    return Decision(False, kind.status, detail, kind, required)


def authorize(principal: Principal | None, action: str | None, app_id: str | None) -> Decision:
    """Decide whether `principal` may do `action` on resources of `app_id`.

    >>> key = Principal(kind="api_key", user_id=None, scopes=frozenset({"app:read"}), app_id="a")
    >>> authorize(key, "app:read", "a").allowed
    True
    >>> authorize(key, "app:read", "b").status, authorize(key, "app:admin", "a").status
    (404, 403)
    """
    if action is not None and action not in SCOPES:
        raise ValueError(f"unknown action {action!r}")  # a programming error, not a caller's
    if principal is None:
        return _refuse(
            UNAUTHENTICATED,
            "send the session cookie or an 'Authorization: Bearer <token>' header",
        )
    if principal.kind == "user" or action is None:
        return ALLOWED
    bound = principal.bound_app_id
    if bound is not None and app_id is None:
        return _refuse(
            FORBIDDEN, f"this API key is bound to one app and cannot {action} instance-wide", action
        )
    if bound is not None and app_id != bound:
        return _refuse(NOT_FOUND, "no such resource")
    if action not in principal.scopes:
        return _refuse(FORBIDDEN, f"this API key lacks the scope '{action}'", action)
    return ALLOWED
