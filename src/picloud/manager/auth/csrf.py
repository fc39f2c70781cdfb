"""CSRF protection for cookie-authenticated requests.

A browser sends the session cookie on cross-site requests too, so any unsafe request (not GET,
HEAD or OPTIONS) that authenticates by cookie must also carry the session's CSRF token, in the
`X-CSRF-Token` header or a `csrf_token` form field. A bearer token is never sent implicitly by a
browser, so bearer-authenticated requests need none.
"""

from __future__ import annotations

from picloud.manager.auth.principal import Principal
from picloud.manager.auth.tokens import same_secret

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"


def needs_csrf(principal: Principal | None, method: str) -> bool:
    return principal is not None and principal.via_cookie and method.upper() not in SAFE_METHODS


def csrf_ok(principal: Principal, given: str | None) -> bool:
    return same_secret(given, principal.csrf_token)
