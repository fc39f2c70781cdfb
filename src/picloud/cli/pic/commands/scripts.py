"""`pic scripts`: list, show and remove scripts (`pic deploy` creates and updates them)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from picloud.cli.pic.examples import example
from picloud.cli.pic.output import Column
from picloud.cli.pic.refs import method_label, script_id
from picloud.cli.pic.session import session_of

app = typer.Typer(help="List, show and remove scripts.", no_args_is_help=True)

ScriptArg = Annotated[
    str, typer.Argument(metavar="APP/SCRIPT", help="App slug and script name, or a script id.")
]

SCRIPT_LIST_COLUMNS = (
    Column.of("app"),
    Column.of("name"),
    Column.of("version"),
    Column.of("handler"),
    Column.of("id"),
    Column.of("updated_at", "updated"),
)
SCRIPT_COLUMNS = (
    Column.of("app"),
    Column.of("name"),
    Column.of("description"),
    Column.of("handler"),
    Column.of("version"),
    Column.of("limits"),
    Column.of("routes"),
    Column.of("id"),
    Column.of("created_at", "created"),
    Column.of("updated_at", "updated"),
)


def route_label(route: dict[str, Any]) -> str:
    """A route as one short phrase.

    >>> route_label({"method": None, "host": "", "path": "/static/*"})
    'ANY /static/*'
    >>> route_label({"method": "GET", "host": "api.example.com", "path": "/u/:id"})
    'GET api.example.com/u/:id'
    """
    return f"{method_label(route['method'])} {route.get('host') or ''}{route['path']}"


@app.command("ls", epilog=example("pic scripts ls --app shop"))
def list_scripts(
    ctx: typer.Context,
    app_ref: Annotated[str | None, typer.Option("--app", help="Only this app's scripts.")] = None,
) -> None:
    """List scripts, of every app or of one."""
    session = session_of(ctx)
    slugs = {a["id"]: a["slug"] for a in session.api.list_apps()}
    scripts = session.api.list_scripts(app=app_ref)
    rows = [{**s, "app": slugs.get(s["app_id"], s["app_id"])} for s in scripts]
    session.show.rows(rows, SCRIPT_LIST_COLUMNS)


@app.command(
    epilog=example(
        "pic scripts show shop/checkout", "pic scripts show shop/checkout --source > checkout.py"
    )
)
def show(
    ctx: typer.Context,
    ref: ScriptArg,
    source: Annotated[
        bool, typer.Option("--source", help="Print only the source code, as deployed.")
    ] = False,
) -> None:
    """Show a script's settings and routes, or its source."""
    session = session_of(ctx)
    script = session.api.get_script(script_id(session.api, ref))
    if source:
        session.show.line(script["source"].rstrip("\n"))
        return
    app = session.api.get_app(script["app_id"])
    routes = session.api.list_routes(script["id"])
    row = {**script, "app": app["slug"], "routes": [route_label(r) for r in routes]}
    session.show.record(row, SCRIPT_COLUMNS)


@app.command("rm", epilog=example("pic scripts rm shop/checkout"))
def remove(ctx: typer.Context, ref: ScriptArg) -> None:
    """Delete a script with its routes."""
    session = session_of(ctx)
    session.api.delete_script(script_id(session.api, ref))
    session.show.note(f"deleted script {ref}")
