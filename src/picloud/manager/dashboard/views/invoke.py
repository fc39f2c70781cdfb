"""A script's Test tab: send it a request, show the answer and the execution record.

The request goes through `ManagerContext.invoke` to `/api/v1/execute/{script_id}/...` on the
data plane, so it takes the same guard, executor, limits and execution record as any call. Its
credential is a key minted for this one run (scope `script:invoke`, bound to the app, expiring
in minutes) and revoked right after, so a script that logs its headers never exposes the
user's session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from picloud.manager.dashboard.pages import Page
from picloud.manager.dashboard.targets import script_from_path
from picloud.manager.services import api_keys as key_service
from picloud.manager.services import routes as route_service
from picloud.manager.services.executions import lookup_execution
from picloud.store.routes import RouteRecord

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
#: Headers the test run sets itself.
RESERVED_HEADERS = frozenset({"authorization", "content-length", "transfer-encoding"})
#: A longer answer is cut for display (the script's own limit still applies to it).
SHOWN_BODY_BYTES = 256 * 1024
KEY_LIFETIME = timedelta(minutes=5)
EXECUTION_ID_HEADER = "x-picloud-execution-id"


def parse_headers(text: str) -> list[tuple[str, str]]:
    """Headers typed one per line as `Name: value`; raises ValueError naming a bad line.

    >>> parse_headers("Accept: application/json\\n\\nX-Trace:  a:b ")
    [('Accept', 'application/json'), ('X-Trace', 'a:b')]
    >>> parse_headers("no colon here")
    Traceback (most recent call last):
    ...
    ValueError: line 1: expected 'Name: value', got 'no colon here'
    """
    headers = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip():
            raise ValueError(f"line {number}: expected 'Name: value', got {line.strip()!r}")
        headers.append((name.strip(), value.strip()))
    return headers


def shown_body(response: httpx.Response) -> tuple[str, bool]:
    """The answer's body as text for display (JSON indented) and whether it was cut."""
    raw = response.content
    cut = len(raw) > SHOWN_BODY_BYTES
    text = raw[:SHOWN_BODY_BYTES].decode("utf-8", errors="replace")
    if not cut and "json" in response.headers.get("content-type", ""):
        with contextlib.suppress(ValueError):  # not valid JSON after all: show it as sent
            text = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    return text, cut


async def wait_for(probe: Callable[[], Any], *, seconds: float, every: float = 0.05) -> Any:
    """Call the blocking `probe` in the thread pool until it answers non-None or time is up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        found = await run_in_threadpool(probe)
        if found is not None or loop.time() >= deadline:
            return found
        await asyncio.sleep(every)


def _validate(values: dict[str, str]) -> tuple[list[tuple[str, str]], dict[str, str]]:
    errors: dict[str, str] = {}
    if values["method"] not in METHODS:
        errors["method"] = f"Choose one of {', '.join(METHODS)}."
    if not values["path"].startswith("/"):
        errors["path"] = "The path starts with '/', e.g. /hello?name=pi"
    headers: list[tuple[str, str]] = []
    try:
        headers = parse_headers(values["headers"])
    except ValueError as exc:
        errors["headers"] = str(exc)
    reserved = sorted({n for n, _ in headers if n.lower() in RESERVED_HEADERS})
    if reserved:
        errors["headers"] = f"{', '.join(reserved)} is set by the test run itself; remove it."
    return headers, errors


async def script_test(page: Page) -> Response:
    app, script = await run_in_threadpool(script_from_path, page, "script:invoke")
    context: dict[str, Any] = {"app": app, "script": script, "tab": "test", "methods": METHODS}
    if page.request.method == "GET":
        values = {"method": "GET", "path": "/", "headers": "", "body": ""}
        if exact := await run_in_threadpool(_first_exact_route, page, script.id):
            values.update(method=exact.method or "GET", path=exact.path)
        return page.render("scripts/test.html", values=values, errors={}, **context)
    values = {k: page.field(k) for k in ("method", "path", "headers", "body")}
    values["path"] = values["path"].strip() or "/"
    headers, errors = _validate(values)
    if page.ctx.invoke is None:
        errors["form"] = "Test runs are not available: this server did not connect the dashboard"
        errors["form"] += " to its data plane."
    if errors:
        return page.render("scripts/test.html", values=values, errors=errors, status=422, **context)

    database = page.ctx.database
    minted = await run_in_threadpool(
        key_service.mint_key, database, name=f"dashboard test run of {app.slug}/{script.name}",
        scopes=["script:invoke"], app=app.id, expires_at=page.ctx.clock() + KEY_LIFETIME,
        created_by=page.principal.user_id,
    )  # fmt: skip
    url = page.request.url
    request = httpx.Request(
        values["method"],
        f"{url.scheme}://{url.netloc}/api/v1/execute/{script.id}{values['path']}",
        headers=[*headers, ("Authorization", f"Bearer {minted.token}")],
        content=values["body"].replace("\r\n", "\n").encode(),
    )
    try:
        response = await page.ctx.invoke(request)
    finally:
        await run_in_threadpool(key_service.revoke_key, database, minted.record.id)
    execution_id = response.headers.get(EXECUTION_ID_HEADER)
    record = None
    if execution_id:
        # Records are written in batches; wait a little longer than one flush for this one.
        seconds = 2 + 3 * page.ctx.settings.log_flush_ms / 1000
        record = await wait_for(lambda: lookup_execution(database, execution_id), seconds=seconds)
    body, cut = shown_body(response)
    return page.render(
        "scripts/test.html", values=values, errors={}, response=response, body=body, cut=cut,
        reason=_reason(response.status_code), execution_id=execution_id, record=record,
        **context,
    )  # fmt: skip


def _first_exact_route(page: Page, script_id: str) -> RouteRecord | None:
    listed = route_service.list_routes(page.ctx.database, script_id)
    return next((r for r in listed if r.path_kind == "exact"), None)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
