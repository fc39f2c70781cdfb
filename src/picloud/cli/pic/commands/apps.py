"""`pic apps`: list, create, show, rename and delete apps."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from picloud.cli.pic.api import ApiError
from picloud.cli.pic.examples import example
from picloud.cli.pic.output import Column
from picloud.cli.pic.session import CliError, session_of

app = typer.Typer(help="Create and manage apps, the isolation boundary.", no_args_is_help=True)

AppArg = Annotated[str, typer.Argument(metavar="APP", help="App slug or id.")]

APP_COLUMNS = (
    Column.of("slug"),
    Column.of("name"),
    Column.of("description"),
    Column.of("id"),
    Column.of("created_at", "created"),
    Column.of("updated_at", "updated"),
)
APP_LIST_COLUMNS = (
    Column.of("slug"),
    Column.of("name"),
    Column.of("script_count", "scripts"),
    Column.of("id"),
)


@app.command("ls", epilog=example("pic apps ls"))
def list_apps(ctx: typer.Context) -> None:
    """List apps."""
    session = session_of(ctx)
    session.show.rows(session.api.list_apps(), APP_LIST_COLUMNS)


@app.command(epilog=example('pic apps create shop --name "Shop" --description "Storefront API"'))
def create(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="Lower-case letters, digits and dashes.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the slug).")] = None,
    description: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create an app."""
    session = session_of(ctx)
    created = session.api.create_app(slug, name or slug, description)
    session.show.record(created, APP_COLUMNS)
    session.show.note(f"created app '{created['slug']}'")


@app.command(epilog=example("pic apps show shop"))
def show(ctx: typer.Context, app_ref: AppArg) -> None:
    """Show one app (an old slug finds the app it now belongs to)."""
    session = session_of(ctx)
    session.show.record(session.api.get_app(app_ref), APP_COLUMNS)


def _slug_owner(check: dict[str, Any]) -> str:
    owner = check.get("app") or {}
    return owner.get("slug") or owner.get("id") or "another app"


@app.command(
    epilog=example("pic apps rename shop store", "pic apps rename store old-shop --force-takeover")
)
def rename(
    ctx: typer.Context,
    app_ref: AppArg,
    new_slug: Annotated[str, typer.Argument(metavar="NEW")],
    force_takeover: Annotated[
        bool,
        typer.Option(
            "--force-takeover",
            help="Take a slug that another app used before (its old URLs stop redirecting).",
        ),
    ] = False,
) -> None:
    """Change an app's slug; URLs with the old slug keep redirecting to the app."""
    session = session_of(ctx)
    check = session.api.check_slug(app_ref, new_slug)
    status = check.get("status")
    if status == "historical" and not force_takeover:
        raise CliError(
            f"'{new_slug}' is an old slug of app '{_slug_owner(check)}', whose old URLs still "
            "redirect to it; run again with --force-takeover to take the slug and end those "
            "redirects"
        )
    if status == "taken":
        raise CliError(f"'{new_slug}' is taken by app '{_slug_owner(check)}'")
    if status in ("reserved", "invalid"):
        reason = check.get("detail") or check.get("rule") or f"the slug is {status}"
        raise CliError(f"cannot rename to '{new_slug}': {reason}")
    renamed = session.api.rename_app(app_ref, new_slug, force_takeover=force_takeover)
    session.show.record(renamed, APP_COLUMNS)
    session.show.note(f"renamed app '{app_ref}' to '{renamed['slug']}'")


@app.command(epilog=example("pic apps delete shop", "pic apps delete shop --force"))
def delete(
    ctx: typer.Context,
    app_ref: AppArg,
    force: Annotated[
        bool, typer.Option("--force", help="Also delete its scripts, routes, domains and logs.")
    ] = False,
) -> None:
    """Delete an app; one that still has scripts needs --force."""
    session = session_of(ctx)
    try:
        session.api.delete_app(app_ref, force=force)
    except ApiError as exc:
        if "script_count" not in exc.problem:
            raise
        raise CliError(
            f"app '{app_ref}' still has {exc.problem['script_count']} script(s); "
            f"`pic apps delete {app_ref} --force` deletes it with everything it owns"
        ) from None
    session.show.note(f"deleted app '{app_ref}'")
