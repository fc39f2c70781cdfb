"""The in-process `Invoke` the composition root hands the dashboard (`ManagerContext.invoke`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from picloud.manager.context import Invoke


def asgi_invoker(app_of: Callable[[], Any]) -> Invoke:
    """Pass each request to the ASGI app `app_of()` returns (the data plane), in process.

    `app_of` is called per request because the data plane is built at start-up, after the
    manager's context: `ManagerContext(..., invoke=asgi_invoker(lambda: self.data_plane))`.
    """

    async def invoke(request: httpx.Request) -> httpx.Response:
        transport = httpx.ASGITransport(app=app_of(), client=("127.0.0.1", 0))
        response = await transport.handle_async_request(request)
        await response.aread()
        return response

    return invoke
