"""`/api/v1/admin/executions`: execution records across scripts, filtered and paginated."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from picloud.manager.dependencies import (
    Allowed,
    Caller,
    Context,
    allowed_app,
    allowed_script,
    execution_target,
    listing_scope,
)
from picloud.manager.openapi import READ, TARGET, problems
from picloud.manager.problems import CURSOR_INVALID, VALIDATION
from picloud.manager.services import executions as execution_service
from picloud.manager.services.executions import ExecutionFilter
from picloud.manager.wire import Execution, ExecutionPage, Outcome

router = APIRouter(prefix="/executions", tags=["executions"])
ACTION = "logs:read"


@router.get(
    "",
    response_model=ExecutionPage,
    summary="Execution records, newest first; pass next_cursor back as cursor for more",
    responses=problems(READ, TARGET, VALIDATION, CURSOR_INVALID),
)
def list_executions(
    ctx: Context,
    principal: Caller,
    app: Annotated[str | None, Query(description="An app id or slug.")] = None,
    script: Annotated[str | None, Query(description="A script id.")] = None,
    outcome: Outcome | None = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Started at or after (ISO 8601).")
    ] = None,
    until: Annotated[AwareDatetime | None, Query(description="Started before (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> ExecutionPage:
    app_id = listing_scope(principal, ACTION)
    if app is not None:
        app_id = allowed_app(ctx, principal, ACTION, app).id
    script_id = allowed_script(ctx, principal, ACTION, script).id if script else None
    filters = ExecutionFilter(app_id, script_id, outcome, since, until)
    items, next_cursor = execution_service.list_executions(
        ctx.database, filters, limit=limit, cursor=cursor
    )
    return ExecutionPage(
        items=[Execution.model_validate(r) for r in items], next_cursor=next_cursor
    )


@router.get("/{execution_id}", response_model=Execution, responses=problems(READ, TARGET))
def get_execution(allowed: Allowed = execution_target(ACTION)) -> Execution:
    return Execution.model_validate(allowed.execution)
