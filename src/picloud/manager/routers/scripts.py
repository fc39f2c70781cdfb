"""`/api/v1/admin/scripts`: scripts, their routes and their execution logs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from picloud.manager.context import ManagerContext
from picloud.manager.dependencies import (
    Allowed,
    Caller,
    Context,
    allowed_app,
    listing_scope,
    script_target,
)
from picloud.manager.openapi import READ, TARGET, WRITE, problems
from picloud.manager.problems import (
    CURSOR_INVALID,
    HOST_NOT_COVERED,
    LIMIT_EXCEEDED,
    LIMIT_INVALID,
    ROUTE_CONFLICT,
    ROUTE_INVALID,
    SCRIPT_NAME_TAKEN,
    SOURCE_INVALID,
    VALIDATION,
)
from picloud.manager.services import executions as execution_service
from picloud.manager.services import routes as route_service
from picloud.manager.services import scripts as script_service
from picloud.manager.services.executions import ExecutionFilter, Follower, arrival_window
from picloud.manager.services.routes import RouteRequest
from picloud.manager.wire import (
    Execution,
    ExecutionPage,
    Outcome,
    Route,
    RouteCreate,
    RouteList,
    Script,
    ScriptCreate,
    ScriptList,
    ScriptSummary,
    ScriptUpdate,
)
from picloud.store.scripts import ScriptRecord

router = APIRouter(prefix="/scripts", tags=["scripts"])
ONE_SCRIPT = "/{script_id}"
#: A comment line keeps idle streams (and the proxies in between) from timing out.
KEEPALIVE_SECONDS = 15.0
SCRIPT_PROBLEMS = (SOURCE_INVALID, LIMIT_INVALID, LIMIT_EXCEEDED, SCRIPT_NAME_TAKEN)


def script_view(ctx: ManagerContext, record: ScriptRecord) -> Script:
    limits = script_service.effective_limits(ctx.settings, record.limits).as_dict()
    summary = ScriptSummary.model_validate(record).model_dump()
    return Script(**summary, source=record.source, effective_limits=limits)


@router.get(
    "",
    response_model=ScriptList,
    summary="Scripts of every app, or of one (?app=id or slug); sources are left out",
    responses=problems(READ, TARGET, VALIDATION),
)
def list_scripts(
    ctx: Context,
    principal: Caller,
    app: Annotated[str | None, Query(description="An app id or slug.")] = None,
) -> ScriptList:
    if app is not None:
        app_id = allowed_app(ctx, principal, "script:read", app).id
    else:
        app_id = listing_scope(principal, "script:read")
    found = script_service.list_scripts(ctx.database, app_id=app_id)
    return ScriptList(items=[ScriptSummary.model_validate(s) for s in found])


@router.post(
    "",
    status_code=201,
    response_model=Script,
    summary="Create a script in an app (app_id takes an id or a slug)",
    responses=problems(WRITE, TARGET, SCRIPT_PROBLEMS),
)
def create_script(body: ScriptCreate, ctx: Context, principal: Caller) -> Script:
    app = allowed_app(ctx, principal, "script:write", body.app_id)
    record = script_service.create_script(
        ctx.database,
        ctx.settings,
        app_id=app.id,
        name=body.name,
        source=body.source,
        description=body.description,
        handler=body.handler,
        limits=body.limits,
    )
    return script_view(ctx, record)


@router.get(ONE_SCRIPT, response_model=Script, responses=problems(READ, TARGET))
def get_script(ctx: Context, allowed: Allowed = script_target("script:read")) -> Script:
    assert allowed.script is not None
    return script_view(ctx, allowed.script)


@router.patch(
    ONE_SCRIPT,
    response_model=Script,
    summary="Change any field; a new source bumps the version, limits replace the overrides",
    responses=problems(WRITE, TARGET, SCRIPT_PROBLEMS),
)
def update_script(
    body: ScriptUpdate, ctx: Context, allowed: Allowed = script_target("script:write")
) -> Script:
    assert allowed.script is not None
    record = script_service.update_script(
        ctx.database, ctx.settings, allowed.script.id, body.model_dump(exclude_unset=True)
    )
    return script_view(ctx, record)


@router.delete(
    ONE_SCRIPT,
    status_code=204,
    response_class=Response,
    summary="Delete a script with its routes and execution logs",
    responses=problems(WRITE, TARGET),
)
def delete_script(ctx: Context, allowed: Allowed = script_target("script:write")) -> Response:
    assert allowed.script is not None
    script_service.delete_script(ctx.database, allowed.script.id)
    return Response(status_code=204)


@router.post(
    ONE_SCRIPT + "/routes",
    status_code=201,
    response_model=Route,
    summary="Bind the script to (method, host, path); 409 names the route it would clash with",
    responses=problems(WRITE, TARGET, ROUTE_INVALID, HOST_NOT_COVERED, ROUTE_CONFLICT),
)
def create_route(
    body: RouteCreate, ctx: Context, allowed: Allowed = script_target("script:write")
) -> Route:
    assert allowed.script is not None
    request = RouteRequest(body.method, body.host, body.path, body.host_kind, body.path_kind)
    record = route_service.create_route(ctx.database, allowed.script, request)
    return Route.model_validate(record)


@router.get(ONE_SCRIPT + "/routes", response_model=RouteList, responses=problems(READ, TARGET))
def list_routes(ctx: Context, allowed: Allowed = script_target("script:read")) -> RouteList:
    assert allowed.script is not None
    found = route_service.list_routes(ctx.database, allowed.script.id)
    return RouteList(items=[Route.model_validate(r) for r in found])


@router.get(
    ONE_SCRIPT + "/logs",
    response_model=ExecutionPage,
    summary="The script's execution records, newest first",
    responses=problems(READ, TARGET, VALIDATION, CURSOR_INVALID),
)
def script_logs(
    ctx: Context,
    allowed: Allowed = script_target("logs:read"),
    outcome: Outcome | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> ExecutionPage:
    assert allowed.script is not None
    filters = ExecutionFilter(script_id=allowed.script.id, outcome=outcome)
    items, next_cursor = execution_service.list_executions(
        ctx.database, filters, limit=limit, cursor=cursor
    )
    return ExecutionPage(
        items=[Execution.model_validate(r) for r in items], next_cursor=next_cursor
    )


@router.get(
    ONE_SCRIPT + "/logs/stream",
    response_class=StreamingResponse,
    summary="Follow new execution records as server-sent events (event: execution)",
    responses={
        200: {
            "description": "An endless `text/event-stream`; each `data:` is one execution record",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **problems(READ, TARGET),
    },
)
async def follow_logs(
    request: Request, ctx: Context, allowed: Allowed = script_target("logs:read")
) -> StreamingResponse:
    assert allowed.script is not None
    window = arrival_window(ctx.settings.limit_ceilings, ctx.settings.log_flush_ms)
    follower = Follower(
        ctx.database, ExecutionFilter(script_id=allowed.script.id), window, ctx.clock()
    )
    await run_in_threadpool(follower.skip_existing)
    return StreamingResponse(
        _events(request, follower, ctx.stream_poll_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(request: Request, follower: Follower, poll_seconds: float) -> AsyncIterator[str]:
    yield ": following\n\n"
    quiet = 0.0
    while not await request.is_disconnected():
        records = await run_in_threadpool(follower.poll)
        for record in records:
            data = Execution.model_validate(record).model_dump_json()
            yield f"id: {record.id}\nevent: execution\ndata: {data}\n\n"
        quiet = 0.0 if records else quiet + poll_seconds
        if quiet >= KEEPALIVE_SECONDS:
            quiet = 0.0
            yield ": keepalive\n\n"
        await asyncio.sleep(poll_seconds)
