"""HTTP client for PiCloud's admin and execute APIs: one method per call, parsed JSON back.

Every error answer becomes one `ApiError` (problem+json when the server sends it), and a server
that cannot be reached at all becomes `Unreachable`, so callers handle exactly two failures.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import quote

import httpx
from httpx_sse import connect_sse

from picloud import __version__ as _version
from picloud.core.problems import PROBLEM_CONTENT_TYPE, problem_type

ADMIN = "/api/v1/admin"
EXECUTION_ID_HEADER = "X-PiCloud-Execution-Id"
_ADMIN_TIMEOUT = httpx.Timeout(30.0)
# A script may run up to its operator ceiling; the server enforces that, not the client.
_INVOKE_TIMEOUT = httpx.Timeout(30.0, read=None)
_STREAM_TIMEOUT = httpx.Timeout(30.0, read=None)

Busy = Callable[[str], AbstractContextManager[object]]


class ApiError(Exception):
    """The server answered a call with an error status."""

    def __init__(self, status: int, title: str, detail: str, problem: dict[str, Any]) -> None:
        super().__init__(f"{title}: {detail}" if detail else title)
        self.status = status
        self.title = title
        self.detail = detail
        self.problem = problem

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        """Read an RFC 9457 problem, or make one up from a non-problem error answer."""
        response.read()
        try:
            body = response.json()
        except ValueError:
            body = None
        problem = body if isinstance(body, dict) else {}
        title = problem.get("title") or response.reason_phrase or f"HTTP {response.status_code}"
        detail = problem.get("detail")
        if detail is None:
            detail = "" if problem else response.text.strip()[:300]
        elif not isinstance(detail, str):
            detail = json.dumps(detail)
        return cls(response.status_code, str(title), detail, problem)


class Unreachable(Exception):
    """No HTTP answer at all: connection refused, unknown host, timeout."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach PiCloud at {url}: {reason}")
        self.url = url
        self.reason = reason


# Problem types with which the data plane refuses a call before any script runs.
_REFUSALS = frozenset(
    problem_type(kind)
    for kind in ("unauthenticated", "forbidden", "not-found", "overloaded", "request-too-large")
)


def _problem_type(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith(PROBLEM_CONTENT_TYPE):
        return None
    try:
        return response.json().get("type")
    except (ValueError, AttributeError):
        return None


def _segment(value: str) -> str:
    return quote(value, safe="")


class PicloudClient:
    """A PiCloud server seen through its HTTP API, with `token` as the bearer credential."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        busy: Busy = lambda _what: contextlib.nullcontext(),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        headers = {"User-Agent": f"pic/{_version}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._busy = busy
        # Old app slugs answer 301/308 to the current one; following them is what the user meant.
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            transport=transport,
            timeout=_ADMIN_TIMEOUT,
            follow_redirects=True,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PicloudClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with self._busy(f"{method} {path}"):
            try:
                return self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                raise Unreachable(self.base_url, str(exc) or type(exc).__name__) from None

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, ADMIN + path, **kwargs)
        if response.is_error:
            raise ApiError.from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise ApiError(
                response.status_code,
                "Not a PiCloud answer",
                f"{method} {response.url} answered {kind}, not JSON; is the URL right?",
                {},
            ) from None

    def _items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        query = {k: v for k, v in params.items() if v is not None}
        return self._call("GET", path, params=query)["items"]

    # auth
    def login(self, username: str, password: str) -> dict[str, Any]:
        return self._call("POST", "/auth/login", json={"username": username, "password": password})

    def logout(self) -> None:
        self._call("POST", "/auth/logout")

    def me(self) -> dict[str, Any]:
        return self._call("GET", "/auth/me")

    # apps
    def list_apps(self) -> list[dict[str, Any]]:
        return self._items("/apps")

    def create_app(self, slug: str, name: str, description: str | None = None) -> dict[str, Any]:
        body = {"slug": slug, "name": name}
        if description is not None:
            body["description"] = description
        return self._call("POST", "/apps", json=body)

    def get_app(self, app: str) -> dict[str, Any]:
        return self._call("GET", f"/apps/{_segment(app)}")

    def check_slug(self, app: str, slug: str) -> dict[str, Any]:
        return self._call("POST", f"/apps/{_segment(app)}/slug:check", json={"slug": slug})

    def rename_app(self, app: str, slug: str, *, force_takeover: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {"slug": slug}
        if force_takeover:
            body["force_takeover"] = True
        return self._call("PATCH", f"/apps/{_segment(app)}", json=body)

    def delete_app(self, app: str, *, force: bool = False) -> None:
        params = {"force": "true"} if force else None
        self._call("DELETE", f"/apps/{_segment(app)}", params=params)

    # domains
    def list_domains(self, app: str) -> list[dict[str, Any]]:
        return self._items(f"/apps/{_segment(app)}/domains")

    def add_domain(self, app: str, pattern: str) -> dict[str, Any]:
        return self._call("POST", f"/apps/{_segment(app)}/domains", json={"pattern": pattern})

    def delete_domain(self, app: str, domain_id: str) -> None:
        self._call("DELETE", f"/apps/{_segment(app)}/domains/{_segment(domain_id)}")

    # scripts
    def list_scripts(self, app: str | None = None) -> list[dict[str, Any]]:
        return self._items("/scripts", app=app)

    def get_script(self, script_id: str) -> dict[str, Any]:
        return self._call("GET", f"/scripts/{_segment(script_id)}")

    def create_script(
        self, app_id: str, name: str, source: str, *, handler: str | None = None
    ) -> dict[str, Any]:
        body = {"app_id": app_id, "name": name, "source": source}
        if handler is not None:
            body["handler"] = handler
        return self._call("POST", "/scripts", json=body)

    def update_script(self, script_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("PATCH", f"/scripts/{_segment(script_id)}", json=fields)

    def delete_script(self, script_id: str) -> None:
        self._call("DELETE", f"/scripts/{_segment(script_id)}")

    # routes
    def list_routes(self, script_id: str) -> list[dict[str, Any]]:
        return self._items(f"/scripts/{_segment(script_id)}/routes")

    def add_route(
        self, script_id: str, method: str | None, path: str, host: str = ""
    ) -> dict[str, Any]:
        body = {"method": method, "host": host, "path": path}
        return self._call("POST", f"/scripts/{_segment(script_id)}/routes", json=body)

    def delete_route(self, route_id: str) -> None:
        self._call("DELETE", f"/routes/{_segment(route_id)}")

    def match_route(self, url: str, method: str) -> dict[str, Any]:
        return self._call("POST", "/routes:match", json={"url": url, "method": method})

    # execution logs
    def script_logs(
        self,
        script_id: str,
        *,
        limit: int | None = None,
        outcome: str | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        params = {"limit": limit, "outcome": outcome, "cursor": cursor}
        query = {k: v for k, v in params.items() if v is not None}
        return self._call("GET", f"/scripts/{_segment(script_id)}/logs", params=query)

    @contextlib.contextmanager
    def follow_script_logs(self, script_id: str) -> Iterator[Iterator[dict[str, Any]]]:
        """Subscribe to new execution records; the subscription is live once this is entered."""
        path = f"{ADMIN}/scripts/{_segment(script_id)}/logs/stream"
        try:
            with connect_sse(self._http, "GET", path, timeout=_STREAM_TIMEOUT) as source:
                if source.response.is_error:
                    raise ApiError.from_response(source.response)
                yield (json.loads(e.data) for e in source.iter_sse() if e.data.strip())
        except httpx.TransportError as exc:
            raise Unreachable(self.base_url, str(exc) or type(exc).__name__) from None

    # API keys
    def list_keys(self) -> list[dict[str, Any]]:
        return self._items("/api-keys")

    def mint_key(
        self,
        name: str,
        scopes: list[str],
        *,
        app_id: str | None = None,
        expires_at: str | None = None,
    ) -> dict[str, Any]:
        body = {"name": name, "scopes": scopes, "app_id": app_id, "expires_at": expires_at}
        return self._call("POST", "/api-keys", json=body)

    def delete_key(self, key_id: str) -> None:
        self._call("DELETE", f"/api-keys/{_segment(key_id)}")

    # data plane
    def invoke(
        self,
        script_id: str,
        method: str,
        path: str = "/",
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Call a script by id; its own answer comes back whatever the status.

        Only a refusal by the platform before the script ran (bad token, unknown script, gate
        full, body too large) raises `ApiError`.
        """
        response = self._send(
            method,
            f"/api/v1/execute/{_segment(script_id)}{path}",
            content=body,
            headers=headers,
            timeout=_INVOKE_TIMEOUT,
            follow_redirects=False,
        )
        if response.is_error and _problem_type(response) in _REFUSALS:
            raise ApiError.from_response(response)
        return response
