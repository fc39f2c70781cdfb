"""`pic routes`: bind scripts to (method, host, path), and ask which route a URL reaches."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from picloud.cli.pic.commands.scripts import ScriptArg, route_label
from picloud.cli.pic.examples import example
from picloud.cli.pic.output import Column
from picloud.cli.pic.refs import method_label, parse_route, script_id
from picloud.cli.pic.session import session_of

app = typer.Typer(help="Bind scripts to HTTP routes.", no_args_is_help=True)

ROUTE_COLUMNS = (
    Column.of("id"),
    Column("method", lambda r: method_label(r["method"])),
    Column("host", lambda r: r.get("host") or "(any)"),
    Column.of("path"),
    Column.of("path_kind", "kind"),
)


def _name(value: Any, *keys: str) -> Any:
    """A nested object of a match answer shown by its most telling field.

    >>> _name({"id": "a1", "slug": "shop"}, "slug")
    'shop'
    >>> _name(None, "slug") is None
    True
    """
    if isinstance(value, dict):
        return next((value[k] for k in (*keys, "id") if value.get(k)), None)
    return value


MATCH_COLUMNS = (
    Column.of("matched"),
    Column("app", lambda m: _name(m.get("app"), "slug")),
    Column("script", lambda m: _name(m.get("script"), "name")),
    Column("route", lambda m: route_label(m["route"]) if m.get("route") else None),
    Column("params", lambda m: " ".join(f"{k}={v}" for k, v in (m.get("params") or {}).items())),
    Column.of("rest"),
    Column.of("reason"),
)


@app.command("ls", epilog=example("pic routes ls shop/checkout"))
def list_routes(ctx: typer.Context, ref: ScriptArg) -> None:
    """List a script's routes."""
    session = session_of(ctx)
    session.show.rows(session.api.list_routes(script_id(session.api, ref)), ROUTE_COLUMNS)


@app.command(
    epilog=example(
        'pic routes add shop/checkout "POST /checkout"',
        'pic routes add shop/users "GET /users/:id" --host api.shop.example.com',
    )
)
def add(
    ctx: typer.Context,
    ref: ScriptArg,
    spec: Annotated[
        str,
        typer.Argument(metavar="METHOD PATH", help='For example "GET /users/:id" or "ANY /x/*".'),
    ],
    host: Annotated[
        str | None,
        typer.Option(help="Only this host (one the app claims) or *.suffix; default: any."),
    ] = None,
) -> None:
    """Bind a script to a method and path (and optionally a host)."""
    session = session_of(ctx)
    method, path = parse_route(spec)
    route = session.api.add_route(script_id(session.api, ref), method, path, host or "")
    session.show.record(route, ROUTE_COLUMNS)
    session.show.note(f"route {method_label(method)} {path} now reaches {ref}")


@app.command("rm", epilog=example("pic routes rm 5f0c2a8e-..."))
def remove(
    ctx: typer.Context,
    route_id: Annotated[str, typer.Argument(metavar="ID", help="Route id (see `pic routes ls`).")],
) -> None:
    """Delete a route."""
    session = session_of(ctx)
    session.api.delete_route(route_id)
    session.show.note(f"deleted route {route_id}")


@app.command(
    epilog=example(
        "pic routes match http://shop.example.com/users/42",
        "pic routes match http://127.0.0.1:8080/hello -X POST",
    )
)
def match(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="A full URL, host included.")],
    method: Annotated[str, typer.Option("--method", "-X")] = "GET",
) -> None:
    """Tell which app, script and route a request would reach; exits 1 when none would."""
    session = session_of(ctx)
    answer = session.api.match_route(url, method.upper())
    session.show.record(answer, MATCH_COLUMNS)
    if not answer.get("matched"):
        raise typer.Exit(1)
