"""The request a handler receives as `req`."""

from __future__ import annotations

from typing import Any

import msgspec

from picloud.sdk.datastructures import Headers, QueryParams


class Request:
    """One HTTP request (or `execute` call) as the script sees it.

    - `method`, `url`, `path`, `host`: as received; `host` is normalized (lower case, no port).
    - `headers`: case-insensitive; `req.headers["x-a"]` is the first value, `getlist` gives all.
    - `query`: the decoded query string, same access as headers (`get`, `getlist`, `dict()`).
    - `params`: route captures (`/users/:id`) and host bindings (`{tenant}.example.com`).
    - `rest`: what a prefix route (`/static/*`) matched below its prefix, else None.
    - `body`: the raw bytes; `text` decodes them as UTF-8; `json()` parses them.
    """

    __slots__ = ("body", "headers", "host", "method", "params", "path", "query", "rest", "url")

    def __init__(
        self,
        *,
        method: str,
        url: str,
        path: str,
        host: str,
        headers: Headers,
        query: QueryParams,
        params: dict[str, str],
        rest: str | None,
        body: bytes,
    ):
        self.method = method
        self.url = url
        self.path = path
        self.host = host
        self.headers = headers
        self.query = query
        self.params = params
        self.rest = rest
        self.body = body

    @property
    def text(self) -> str:
        """The body decoded as UTF-8; undecodable bytes become U+FFFD."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; None for an empty body; ValueError when it is not JSON."""
        if not self.body.strip():
            return None
        try:
            return msgspec.json.decode(self.body)
        except msgspec.DecodeError as exc:
            raise ValueError(f"request body is not valid JSON: {exc}") from None

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"
