"""`picloud`: the server command (serve, migrate, admin users, generated docs).

A thin layer over the application object: each command loads the settings, then calls into
`picloud.server`, `picloud.store` or `picloud.manager.bootstrap`.
"""

from __future__ import annotations

import gc
import socket
import sys
from pathlib import Path

import typer

from picloud.config import ConfigError, Settings, configuration_markdown, load_settings
from picloud.logs import configure_logging

app = typer.Typer(
    name="picloud",
    help="PiCloud server: upload a Python script, get an HTTP endpoint.",
    no_args_is_help=True,
    add_completion=False,
)
#: An idle connection is closed after this long; a request head must arrive within it too.
KEEP_ALIVE_SECONDS = 5

admin_app = typer.Typer(help="Manage admin users of this instance.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(f"picloud: {exc}", err=True)
        raise typer.Exit(2) from None


def _database(settings: Settings):
    from picloud.store.database import Database

    database = Database(settings.resolved_database_url)
    database.migrate()
    return database


def _freeze_startup_heap() -> None:
    """What is loaded by the end of startup (tables, the app, the libraries) lives as long as
    the server: the cyclic garbage collector need not walk it again on every collection
    (docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()


@app.command()
def serve() -> None:
    """Run the manager, orchestrator and executor in one process (Ctrl-C or SIGTERM to stop)."""
    import uvicorn

    from picloud.cli.http_protocol import GuardedHttpToolsProtocol

    class _HeapFreezingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            _freeze_startup_heap()

    from picloud.server import create_app

    settings = _settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        application = create_app(settings)
    except Exception as exc:  # a sandbox or database problem found before the socket opens
        typer.echo(f"picloud: cannot start: {exc}", err=True)
        raise typer.Exit(1) from None
    config = uvicorn.Config(
        application,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        http=GuardedHttpToolsProtocol,
        # Also the time a connection has to send a whole request head (http_protocol.py).
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=settings.drain_seconds,
        log_level=settings.log_level,
    )
    server = _HeapFreezingServer(config)
    server.run()
    if not server.started:
        raise typer.Exit(1)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (also done by `picloud serve`)."""
    settings = _settings()
    database = _database(settings)
    typer.echo(f"database at revision {database.current_revision()}")


@app.command()
def backup(
    path: Path = typer.Argument(..., help="The backup file to write (a SQLite database file)."),
    force: bool = typer.Option(False, "--force", help="Overwrite PATH if it exists."),
) -> None:
    """Write a consistent snapshot of all PiCloud data to PATH (safe while the server runs)."""
    from picloud.store.backup import BackupError
    from picloud.store.backup import backup as write_backup
    from picloud.store.database import Database

    database = Database(_settings().resolved_database_url)
    try:
        summary = write_backup(database, path, overwrite=force)
    except BackupError as exc:
        typer.echo(f"picloud: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        database.dispose()
    typer.echo(f"backed up {summary.describe()} to {summary.path}")


@app.command()
def restore(
    path: Path = typer.Argument(..., help="A backup file written by `picloud backup`."),
    force: bool = typer.Option(
        False, "--force", help="Replace the data of a database that already holds some."
    ),
) -> None:
    """Load a backup into the configured database, replacing its data in one transaction.

    Stop the servers using the database first. A backup from SQLite restores into PostgreSQL
    and the other way round; an older backup is brought up to this version's schema.
    """
    from picloud.store.backup import BackupError
    from picloud.store.backup import restore as load_backup
    from picloud.store.database import Database

    database = Database(_settings().resolved_database_url)
    try:
        summary = load_backup(database, path, force=force)
    except BackupError as exc:
        typer.echo(f"picloud: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        database.dispose()
    typer.echo(f"restored {summary.describe()} from {path}")


@app.command("config-docs")
def config_docs(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
) -> None:
    """Print the configuration reference (docs/configuration.md) generated from the code."""
    text = configuration_markdown()
    if output:
        output.write_text(text)
    else:
        sys.stdout.write(text)


@app.command()
def caddyfile(
    nodes: str = typer.Option(
        ..., "--nodes", help="Comma-separated host:port of every PiCloud node."
    ),
    http_port: int | None = typer.Option(
        None, "--http-port", help="Serve plain HTTP on this port instead of on-demand TLS."
    ),
    email: str | None = typer.Option(None, help="ACME account e-mail for certificates."),
) -> None:
    """Print a Caddyfile that load-balances NODES with health checks and on-demand TLS."""
    from picloud.cli.caddyfile import render_caddyfile

    node_list = [n.strip() for n in nodes.split(",") if n.strip()]
    try:
        sys.stdout.write(render_caddyfile(node_list, http_port=http_port, email=email))
    except ValueError as exc:
        typer.echo(f"picloud: {exc}", err=True)
        raise typer.Exit(2) from None


@admin_app.command("create")
def admin_create(
    username: str = typer.Argument(..., help="The new user's name."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="The new password."
    ),
    role: str = typer.Option("owner", help="owner or admin."),
) -> None:
    """Create an admin user (the first one may be created this way)."""
    from picloud.manager.bootstrap import create_admin

    settings = _settings()
    try:
        create_admin(_database(settings), username, password, role)
    except ValueError as exc:
        typer.echo(f"picloud: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {role} '{username}'")


@admin_app.command("reset-password")
def admin_reset_password(
    username: str = typer.Argument(..., help="The user whose password to set."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="The new password."
    ),
) -> None:
    """Set a new password for an admin user and end its sessions."""
    from picloud.manager.bootstrap import reset_password

    settings = _settings()
    try:
        reset_password(_database(settings), username, password)
    except ValueError as exc:
        typer.echo(f"picloud: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"password of '{username}' changed")


def main() -> None:
    app()
