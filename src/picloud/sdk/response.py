"""What a handler may return, and how each return value becomes an HTTP response (SPEC 5).

- `Response(body, status=200, headers=None)`;
- a tuple `(body, status)` or `(body, status, headers)`;
- a bare body: str -> text/plain, bytes -> application/octet-stream, dict, list, number, bool or
  None -> application/json. A `Content-Type` header the script sets wins.

`Response(None)` (or `Response()`) is an empty body, handy with 204; a bare `None` is JSON `null`.
Anything else is an invalid response (502)::

    >>> render(("created", 201))
    (201, [('content-type', 'text/plain; charset=utf-8')], b'created')
    >>> render({"ok": True})
    (200, [('content-type', 'application/json')], b'{"ok":true}')
    >>> render(("teapot", 700))
    Traceback (most recent call last):
    ...
    picloud.sdk.response.InvalidResponse: status must be a whole number from 100 to 599, got 700
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

TEXT = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"
JSON = "application/json"

_JSON_TYPES = (dict, list, int, float, type(None))  # bool is an int
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\r\n\x00]")


class InvalidResponse(ValueError):
    """The handler's return value cannot be sent as an HTTP response."""


class Response:
    """An explicit response: body (str, bytes, JSON-able value or None), status, headers."""

    __slots__ = ("body", "headers", "status")

    def __init__(
        self,
        body: Any = None,
        status: int = 200,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
    ):
        self.body = body
        self.status = status
        self.headers = headers

    def __repr__(self) -> str:
        return f"<Response {self.status}>"


def render(
    value: Any, max_body_bytes: int | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Turn a handler's return value into (status, headers, body) or raise InvalidResponse."""
    if isinstance(value, Response):
        body, status, headers = value.body, value.status, value.headers
        content_type, payload = (None, b"") if body is None else _encode_body(body)
    elif isinstance(value, tuple):
        if len(value) not in (2, 3):
            raise InvalidResponse(
                f"a tuple response must be (body, status) or (body, status, headers), "
                f"got {len(value)} items"
            )
        body, status, headers = (*value, None)[:3]
        content_type, payload = _encode_body(body)
    else:
        status, headers = 200, None
        content_type, payload = _encode_body(value)
    checked_status = _check_status(status)
    checked_headers = _check_headers(headers)
    if content_type and not any(name.lower() == "content-type" for name, _ in checked_headers):
        checked_headers.append(("content-type", content_type))
    if max_body_bytes is not None and len(payload) > max_body_bytes:
        raise InvalidResponse(
            f"response body of {len(payload)} bytes exceeds max_response_bytes {max_body_bytes}"
        )
    return checked_status, checked_headers, payload


def _encode_body(body: Any) -> tuple[str, bytes]:
    if isinstance(body, str):
        return TEXT, body.encode("utf-8", errors="surrogateescape")
    if isinstance(body, bytes | bytearray | memoryview):
        return BINARY, bytes(body)
    if isinstance(body, _JSON_TYPES):
        try:
            return JSON, msgspec.json.encode(body)
        except (TypeError, ValueError) as exc:
            raise InvalidResponse(f"response body is not JSON-serializable: {exc}") from None
    raise InvalidResponse(
        "a handler may return str, bytes, dict, list, a number, a bool, None, a tuple or a "
        f"Response, not {type(body).__name__}"
    )


def _check_status(status: Any) -> int:
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise InvalidResponse(f"status must be a whole number from 100 to 599, got {status!r}")
    return status


def _check_headers(headers: Any) -> list[tuple[str, str]]:
    if headers is None:
        return []
    shape_error = InvalidResponse("headers must be a dict or a list of (name, value) pairs")
    if isinstance(headers, Mapping):
        pairs = list(headers.items())
    elif isinstance(headers, list | tuple):
        pairs = list(headers)
    else:
        raise shape_error
    if not all(isinstance(pair, list | tuple) and len(pair) == 2 for pair in pairs):
        raise shape_error
    return [_check_header(name, value) for name, value in pairs]


def _check_header(name: Any, value: Any) -> tuple[str, str]:
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        raise InvalidResponse(f"invalid header name {name!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or _HEADER_VALUE_FORBIDDEN.search(value):
        raise InvalidResponse(f"invalid value for header {name!r}: {value!r}")
    return name, value
