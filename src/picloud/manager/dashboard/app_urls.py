"""The URLs where an app's routes answer, for the overview tab.

Each route is shown on every host it listens on: its own host when strict or wildcard, else
every domain the app claims. A URL a browser can open as is (a literal host, an exact path, a
method a link can send) is marked `openable`::

    >>> urls = route_urls(["localhost", "*.example.com"], "any", "", "/hello", "exact", "GET",
    ...                   scheme="http", port=8080)
    >>> [(u.url, u.openable) for u in urls]
    [('http://localhost:8080/hello', True), ('http://*.example.com:8080/hello', False)]
    >>> route_urls([], "strict", "api.example.com", "/users/:id", "param", None,
    ...            scheme="https", port=443)[0].url
    'https://api.example.com/users/:id'
"""

from __future__ import annotations

from dataclasses import dataclass

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class RouteUrl:
    url: str
    openable: bool


def route_urls(
    claimed: list[str],
    host_kind: str,
    host: str,
    path: str,
    path_kind: str,
    method: str | None,
    *,
    scheme: str,
    port: int | None,
) -> list[RouteUrl]:
    hosts = claimed if host_kind == "any" else [host]
    port_part = "" if port in (None, _DEFAULT_PORTS.get(scheme)) else f":{port}"
    linkable = path_kind == "exact" and method in (None, "GET")
    return [
        RouteUrl(f"{scheme}://{h}{port_part}{path}", linkable and not h.startswith(("*", "{")))
        for h in hosts
    ]
