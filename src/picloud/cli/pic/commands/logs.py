"""`pic logs`: a script's execution records, newest last, optionally followed live."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.text import Text

from picloud.cli.pic.commands.scripts import ScriptArg
from picloud.cli.pic.examples import example
from picloud.cli.pic.output import Column, OutputFormat, Presenter, tsv_line
from picloud.cli.pic.refs import script_id
from picloud.cli.pic.session import session_of
from picloud.executor.interface import OUTCOMES

app = typer.Typer()

Outcome = StrEnum("Outcome", {name: name for name in OUTCOMES})

RECORD_COLUMNS = (
    Column.of("started_at"),
    Column.of("id"),
    Column.of("method"),
    Column.of("path"),
    Column.of("status_code"),
    Column.of("outcome"),
    Column.of("duration_ms"),
)


def record_lines(record: dict[str, Any]) -> list[str]:
    """An execution record as a person reads it: a summary line, then its log lines and error.

    >>> print("\\n".join(record_lines({
    ...     "id": "e1", "started_at": "2025-01-02T03:04:05.678+00:00", "method": "GET",
    ...     "path": "/hello", "status_code": 200, "outcome": "ok", "duration_ms": 3.25,
    ...     "script_version": 2, "error": None,
    ...     "logs": [{"level": "info", "message": "greeting", "fields": {"name": "Ada"}}]})))
    2025-01-02 03:04:05  GET /hello  200 ok  3.2 ms  v2  e1
        info  greeting name=Ada
    """
    started = str(record.get("started_at") or "")[:19].replace("T", " ")
    duration = record.get("duration_ms")
    took = f"{duration:.1f} ms" if isinstance(duration, int | float) else "-"
    lines = [
        f"{started}  {record.get('method')} {record.get('path')}  "
        f"{record.get('status_code')} {record.get('outcome')}  {took}  "
        f"v{record.get('script_version')}  {record.get('id')}"
    ]
    for entry in record.get("logs") or ():
        fields = " ".join(f"{k}={v}" for k, v in (entry.get("fields") or {}).items())
        lines.append(f"    {entry.get('level')}  {entry.get('message')} {fields}".rstrip())
    if record.get("error"):
        lines.extend(f"    {line}" for line in str(record["error"]).rstrip().splitlines())
    return lines


def _printer(show: Presenter) -> Callable[[dict[str, Any]], None]:
    """How one record is printed; in JSON, one object per line (JSON Lines) while following."""
    if show.format is OutputFormat.tsv:
        return lambda r: show.line(tsv_line(c.value(r) for c in RECORD_COLUMNS))
    if show.format is OutputFormat.json:
        return lambda r: show.line(json.dumps(r, ensure_ascii=False))

    def human(record: dict[str, Any]) -> None:
        head, *rest = record_lines(record)
        style = "green" if record.get("outcome") == "ok" else "red"
        show.out.print(Text(head, style=style), highlight=False, soft_wrap=True)
        for line in rest:
            show.out.print(Text(line), highlight=False, soft_wrap=True)

    return human


def oldest_first(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: str(r.get("started_at") or ""))


@app.command(
    epilog=example(
        "pic logs default/hello",
        "pic logs shop/checkout --outcome error --limit 5",
        "pic logs shop/checkout --follow",
    )
)
def logs(
    ctx: typer.Context,
    ref: ScriptArg,
    limit: Annotated[
        int, typer.Option(min=1, max=500, help="How many recent records to show.")
    ] = 20,
    outcome: Annotated[
        Outcome | None, typer.Option(help="Only executions with this outcome.")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new records (Ctrl-C stops).")
    ] = False,
) -> None:
    """Show a script's recent executions with their log lines and errors, oldest first."""
    session = session_of(ctx)
    api = session.api
    target = script_id(api, ref)

    def recent() -> list[dict[str, Any]]:
        page = api.script_logs(target, limit=limit, outcome=outcome)
        return oldest_first(page["items"])

    emit = _printer(session.show)
    if not follow:
        records = recent()
        if session.show.format is OutputFormat.json:
            session.show.json(records)
            return
        for record in records:
            emit(record)
        return

    try:
        # Subscribe before reading history, so nothing written in between is missed.
        with api.follow_script_logs(target) as stream:
            shown: set[str] = set()
            for record in recent():
                emit(record)
                shown.add(record["id"])
            for record in stream:
                # The stream carries every outcome; history was filtered by the server.
                if record.get("id") not in shown and outcome in (None, record.get("outcome")):
                    emit(record)
    except KeyboardInterrupt:
        return
    session.show.note("the server closed the log stream")
    raise typer.Exit(1)
