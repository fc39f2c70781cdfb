"""`pic deploy`: upload a script file, create or update it, and bind a route."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from picloud.cli.pic.api import ApiError, PicloudClient
from picloud.cli.pic.commands.scripts import route_label
from picloud.cli.pic.examples import example
from picloud.cli.pic.output import Column
from picloud.cli.pic.refs import comparable_host, parse_route
from picloud.cli.pic.session import CliError, CompileError, session_of
from picloud.core.problems import problem_type

app = typer.Typer()

SOURCE_INVALID = problem_type("source-invalid")

DEPLOY_COLUMNS = (
    Column.of("script"),
    Column.of("version"),
    Column.of("action"),
    Column.of("route"),
    Column.of("route_action", "route action"),
    Column.of("url"),
    Column.of("invoke"),
    Column.of("id"),
)


def call_url(base_url: str, script_id: str, route: dict[str, Any] | None, claims: list[str]) -> str:
    """A URL that reaches the script: through its route on a host the app claims, else by id.

    >>> base = "http://127.0.0.1:8080"
    >>> call_url(base, "s1", {"host": "", "path": "/hello"}, ["localhost", "127.0.0.1"])
    'http://127.0.0.1:8080/hello'
    >>> call_url(base, "s1", {"host": "", "path": "/hi"}, ["*.shop.test", "shop.test"])
    'http://shop.test:8080/hi'
    >>> call_url(base, "s1", None, ["localhost"])
    'http://127.0.0.1:8080/api/v1/execute/s1'
    """
    base = httpx.URL(base_url)
    by_id = str(base.copy_with(path=f"{base.path.rstrip('/')}/api/v1/execute/{script_id}"))
    if route is None or "*" in (route.get("host") or ""):
        return by_id
    exact = [c for c in claims if "*" not in c and "{" not in c]
    host = route.get("host") or (base.host if base.host in exact else next(iter(exact), None))
    if host is None:
        return by_id
    return str(base.copy_with(host=host, path=route["path"]))


def _read_source(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{file} is not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror}") from None


def _save_script(
    api: PicloudClient, app_id: str, name: str, source: str, handler: str | None
) -> tuple[dict[str, Any], str]:
    existing = next((s for s in api.list_scripts(app=app_id) if s["name"] == name), None)
    if existing is None:
        return api.create_script(app_id, name, source, handler=handler), "created"
    fields = {"source": source} | ({"handler": handler} if handler else {})
    return api.update_script(existing["id"], **fields), "updated"


def _ensure_route(
    api: PicloudClient, script_id: str, method: str | None, path: str, host: str
) -> tuple[dict[str, Any], str]:
    wanted = (method, path, comparable_host(host))
    for route in api.list_routes(script_id):
        if (route["method"], route["path"], comparable_host(route.get("host") or "")) == wanted:
            return route, "exists"
    return api.add_route(script_id, method, path, host), "added"


@app.command(
    epilog=example(
        'pic deploy hello.py --app default --route "GET /hello"',
        'pic deploy shop/checkout.py --app shop --route "POST /checkout" --host shop.example.com',
    )
)
def deploy(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The Python source file.", dir_okay=False)
    ],
    app_ref: Annotated[str, typer.Option("--app", help="App slug or id.")],
    name: Annotated[
        str | None, typer.Option(help="Script name (default: the file name without .py).")
    ] = None,
    route: Annotated[
        str | None,
        typer.Option(
            help='Bind "METHOD PATH" (METHOD may be ANY) unless the script has it already.'
        ),
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Route host: one the app claims, or *.suffix.")
    ] = None,
    handler: Annotated[
        str | None, typer.Option(help="Name of the handler function (server default: handle).")
    ] = None,
) -> None:
    """Create or update a script from a file, add its route, and print the URL to call."""
    session = session_of(ctx)
    source = _read_source(file)
    method_path = parse_route(route) if route else None
    if host and not method_path:
        raise CliError("--host needs --route")
    api = session.api
    target = api.get_app(app_ref)
    script_name = name or file.stem
    try:
        script, action = _save_script(api, target["id"], script_name, source, handler)
    except ApiError as exc:
        if exc.problem.get("type") != SOURCE_INVALID:
            raise
        problem = exc.problem
        message = problem.get("message") or exc.detail
        raise CompileError(str(file), problem.get("line"), problem.get("column"), message) from None
    ref = f"{target['slug']}/{script['name']}"
    bound, route_action = None, None
    if method_path:
        try:
            bound, route_action = _ensure_route(api, script["id"], *method_path, host or "")
        except ApiError:
            session.show.note(f"{ref} is saved (version {script['version']}) but has no new route:")
            raise
    claims = [c["pattern"] for c in api.list_domains(target["id"])] if bound else []
    result = {
        "script": ref,
        "version": script.get("version"),
        "action": action,
        "route": route_label(bound) if bound else None,
        "route_action": route_action,
        "url": call_url(api.base_url, script["id"], bound, claims),
        "invoke": f"pic invoke {ref}",
        "id": script["id"],
    }
    session.show.record(result, DEPLOY_COLUMNS)
