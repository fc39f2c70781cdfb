"""`pic domains`: the host names an app claims."""

from __future__ import annotations

from typing import Annotated

import typer

from picloud.cli.pic.commands.apps import AppArg
from picloud.cli.pic.examples import example
from picloud.cli.pic.output import Column
from picloud.cli.pic.refs import comparable_host
from picloud.cli.pic.session import CliError, session_of

app = typer.Typer(help="Claim host names for an app.", no_args_is_help=True)

PatternArg = Annotated[
    str,
    typer.Argument(
        metavar="PATTERN", help="api.example.com, *.example.com or {tenant}.example.com"
    ),
]
DOMAIN_COLUMNS = (Column.of("pattern"), Column.of("shape"), Column.of("id"))


@app.command("ls", epilog=example("pic domains ls shop"))
def list_domains(ctx: typer.Context, app_ref: AppArg) -> None:
    """List the domains an app claims."""
    session = session_of(ctx)
    session.show.rows(session.api.list_domains(app_ref), DOMAIN_COLUMNS)


@app.command(epilog=example("pic domains add shop shop.example.com"))
def add(ctx: typer.Context, app_ref: AppArg, pattern: PatternArg) -> None:
    """Claim a host name (exact, wildcard or parameterized) for an app."""
    session = session_of(ctx)
    claim = session.api.add_domain(app_ref, pattern)
    session.show.record(claim, DOMAIN_COLUMNS)
    session.show.note(f"app '{app_ref}' now claims {claim['pattern']}")


@app.command("rm", epilog=example("pic domains rm shop shop.example.com"))
def remove(ctx: typer.Context, app_ref: AppArg, pattern: PatternArg) -> None:
    """Release a claim (by its pattern or id)."""
    session = session_of(ctx)
    claims = session.api.list_domains(app_ref)
    wanted = comparable_host(pattern)
    claim = next((c for c in claims if wanted in (comparable_host(c["pattern"]), c["id"])), None)
    if claim is None:
        raise CliError(f"app '{app_ref}' does not claim '{pattern}'")
    session.api.delete_domain(app_ref, claim["id"])
    session.show.note(f"app '{app_ref}' no longer claims {claim['pattern']}")
