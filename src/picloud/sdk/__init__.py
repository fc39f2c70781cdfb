"""What PiCloud scripts import: `from picloud.sdk import Response`.

A script defines `def handle(req, ctx)` (or `handle(req)`, or `async def`); `req` is a `Request`,
`ctx` a `Context`, and the return value becomes the response (see `picloud.sdk.response`).
This package runs inside the sandbox: it imports only the standard library and msgspec.
"""

from picloud.sdk.context import AppInfo, Context, Log, ScriptInfo
from picloud.sdk.datastructures import Headers, QueryParams
from picloud.sdk.request import Request
from picloud.sdk.response import InvalidResponse, Response

#: The script API version ("major.minor"), reported by /version and as `ctx.sdk_version`.
SDK_VERSION = "1.0"

__all__ = [
    "SDK_VERSION",
    "AppInfo",
    "Context",
    "Headers",
    "InvalidResponse",
    "Log",
    "QueryParams",
    "Request",
    "Response",
    "ScriptInfo",
]
