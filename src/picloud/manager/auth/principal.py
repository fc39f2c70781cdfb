"""Who is calling: an admin user (through a session) or an API key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The fixed scope vocabulary of API keys; also the actions `authorize` decides on.
SCOPES: tuple[str, ...] = (
    "app:read",
    "app:admin",
    "script:read",
    "script:write",
    "script:invoke",
    "logs:read",
    "instance:admin",
)

ROLES: tuple[str, ...] = ("owner", "admin")

Scope = Literal[
    "app:read",
    "app:admin",
    "script:read",
    "script:write",
    "script:invoke",
    "logs:read",
    "instance:admin",
]
Role = Literal["owner", "admin"]


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    `kind` is "user" for a session of an admin user and "api_key" for a key. A key carries its
    `scopes` and, when bound, the one `app_id` it may see; `user_id` is its creator, if any.
    `session_id` and `csrf_token` are set for sessions, `key_id` and `key_name` for keys;
    `via_cookie` says the token came from the session cookie (so unsafe requests need CSRF).
    """

    kind: Literal["user", "api_key"]
    user_id: str | None
    username: str | None = None
    role: str | None = None
    scopes: frozenset[str] = frozenset()
    app_id: str | None = None
    session_id: str | None = None
    csrf_token: str | None = None
    key_id: str | None = None
    key_name: str | None = None
    via_cookie: bool = False

    @property
    def bound_app_id(self) -> str | None:
        """The one app a bound API key is limited to; None for users and unbound keys."""
        return self.app_id if self.kind == "api_key" else None

    def can_see_app(self, app_id: str | None) -> bool:
        bound = self.bound_app_id
        return bound is None or bound == app_id
