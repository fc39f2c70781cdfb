"""A script's Executions tab: a filterable, paginated list, one record in detail, and the row
fragment the live follow (server-sent events from the admin API) inserts."""

from __future__ import annotations

from datetime import timedelta

from starlette.responses import Response

from picloud.executor.interface import OUTCOMES
from picloud.manager.dashboard.pages import Page
from picloud.manager.dashboard.targets import script_from_path
from picloud.manager.problems import NOT_FOUND
from picloud.manager.services import executions as execution_service
from picloud.manager.services.executions import ExecutionFilter
from picloud.store.executions import ExecutionRecord
from picloud.store.scripts import ScriptRecord

PAGE_SIZE = 50
#: The "started within" filter: label -> how far back.
PERIODS = {"1 h": timedelta(hours=1), "24 h": timedelta(hours=24), "7 days": timedelta(days=7)}


def script_executions(page: Page) -> Response:
    app, script = script_from_path(page, "logs:read")
    outcome = page.query("outcome") if page.query("outcome") in OUTCOMES else ""
    period = page.query("period") if page.query("period") in PERIODS else ""
    cursor = page.query("cursor") or None
    filters = ExecutionFilter(
        script_id=script.id,
        outcome=outcome or None,
        since=page.ctx.clock() - PERIODS[period] if period else None,
    )
    items, next_cursor = execution_service.list_executions(
        page.ctx.database, filters, limit=PAGE_SIZE, cursor=cursor
    )
    return page.render(
        "scripts/executions.html", app=app, script=script, tab="executions", items=items,
        next_cursor=next_cursor, outcome=outcome, outcomes=OUTCOMES, period=period,
        periods=PERIODS, first_page=cursor is None,
    )  # fmt: skip


def _record(page: Page, script: ScriptRecord) -> ExecutionRecord:
    execution_id = page.path_params["execution_id"]
    record = execution_service.lookup_execution(page.ctx.database, execution_id)
    if record is None or record.script_id != script.id:
        raise NOT_FOUND(f"Script '{script.name}' has no execution record '{execution_id}'.")
    return record


def execution_detail(page: Page) -> Response:
    app, script = script_from_path(page, "logs:read")
    record = _record(page, script)
    return page.render(
        "scripts/execution.html", app=app, script=script, tab="executions", record=record
    )


def execution_row(page: Page) -> Response:
    app, script = script_from_path(page, "logs:read")
    return page.fragment(
        "scripts/_execution_row.html", app=app, script=script, record=_record(page, script)
    )
