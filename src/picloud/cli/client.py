"""`pic`: the PiCloud command line for developers: deploy, invoke, follow logs, manage apps.

A thin layer over `picloud.cli.pic.api.PicloudClient`; each command group lives in
`picloud.cli.pic.commands`. Expected failures (API errors, an unreachable server, bad input)
end as one line on stderr and exit code 1; usage errors exit 2.
"""

from __future__ import annotations

from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from picloud.cli.pic.commands import (
    apps,
    auth,
    deploy,
    domains,
    invoke,
    keys,
    logs,
    routes,
    scripts,
)
from picloud.cli.pic.output import OutputFormat
from picloud.cli.pic.session import EXPECTED_FAILURES, error_line, session_of


class PicGroup(TyperGroup):
    """The root command: turns every expected failure below it into one line on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EXPECTED_FAILURES as exc:
            Console(stderr=True).print(
                Text(error_line(exc), style="red"), highlight=False, soft_wrap=True
            )
            raise typer.Exit(getattr(exc, "exit_code", 1)) from None


app = typer.Typer(
    name="pic",
    cls=PicGroup,
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@app.callback()
def global_options(
    ctx: typer.Context,
    output: Annotated[
        OutputFormat | None,
        typer.Option(
            "--output",
            "-o",
            help="table, json or tsv (default: table on a terminal, json otherwise).",
        ),
    ] = None,
) -> None:
    """PiCloud from the terminal: deploy scripts, invoke them, follow their logs.

    Credentials come from `pic login`; PICLOUD_URL and PICLOUD_TOKEN override them.
    """
    session = session_of(ctx)
    session.output = output
    ctx.call_on_close(session.close)


for commands in (auth, deploy, invoke, logs):
    app.add_typer(commands.app)
app.add_typer(apps.app, name="apps")
app.add_typer(scripts.app, name="scripts")
app.add_typer(routes.app, name="routes")
app.add_typer(domains.app, name="domains")
app.add_typer(keys.app, name="keys")


def main() -> None:
    app(prog_name="pic")
