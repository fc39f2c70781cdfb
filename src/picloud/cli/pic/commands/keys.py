"""`pic keys`: API keys for scripts, CI and other programs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from picloud.cli.pic.examples import example
from picloud.cli.pic.output import Column
from picloud.cli.pic.session import CliError, session_of

app = typer.Typer(help="Mint, list and revoke API keys.", no_args_is_help=True)

KEY_COLUMNS = (
    Column.of("name"),
    Column.of("prefix"),
    Column.of("scopes"),
    Column.of("app"),
    Column.of("expires_at", "expires"),
    Column.of("id"),
)


def parse_expiry(text: str) -> str:
    """An ISO 8601 date or time, checked before it is sent; without a zone it is UTC.

    >>> parse_expiry("2030-01-31")
    '2030-01-31T00:00:00+00:00'
    >>> parse_expiry("2030-01-31T12:00:00+02:00")
    '2030-01-31T12:00:00+02:00'
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--expires '{text}' is not an ISO 8601 date or time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _complete_scope(incomplete: str) -> list[str]:
    # Imported here: the manager package loads the database layer, too slow for every `pic` run.
    from picloud.manager.auth.principal import SCOPES

    return [s for s in SCOPES if s.startswith(incomplete)]


@app.command("ls", epilog=example("pic keys ls"))
def list_keys(ctx: typer.Context) -> None:
    """List API keys (never their tokens)."""
    session = session_of(ctx)
    slugs = {a["id"]: a["slug"] for a in session.api.list_apps()}
    rows = [
        {**k, "app": slugs.get(k.get("app_id"), k.get("app_id"))} for k in session.api.list_keys()
    ]
    session.show.rows(rows, KEY_COLUMNS)


@app.command(
    epilog=example(
        "pic keys mint ci-deploy --scope script:write --scope script:read --app shop",
        "pic keys mint smoke-test --scope script:invoke --expires 2030-01-31",
    )
)
def mint(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What the key is for.")],
    scopes: Annotated[
        list[str],
        typer.Option(
            "--scope",
            help="Repeat for each: app:read, app:admin, script:read, script:write, "
            "script:invoke, logs:read, instance:admin.",
            autocompletion=_complete_scope,
        ),
    ],
    app_ref: Annotated[
        str | None, typer.Option("--app", help="Bind the key to this app only.")
    ] = None,
    expires: Annotated[
        str | None, typer.Option(help="Expiry as an ISO 8601 date or time (default: never).")
    ] = None,
) -> None:
    """Mint an API key; its token is shown this once."""
    session = session_of(ctx)
    expires_at = parse_expiry(expires) if expires else None
    # The API takes an app's slug as well as its id here.
    key = session.api.mint_key(name, scopes, app_id=app_ref, expires_at=expires_at)
    session.show.record({**key, "app": app_ref}, (*KEY_COLUMNS, Column.of("token")))
    session.show.note("the token is shown only this once: store it now")


@app.command("rm", epilog=example("pic keys rm 3c9d7a10-..."))
def remove(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(metavar="ID", help="Key id (see `pic keys ls`).")],
) -> None:
    """Revoke an API key."""
    session = session_of(ctx)
    session.api.delete_key(key_id)
    session.show.note(f"revoked key {key_id}")
