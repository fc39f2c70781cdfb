"""`pic login`, `pic logout`, `pic whoami`."""

from __future__ import annotations

from typing import Annotated

import typer

from picloud.cli.pic.api import ApiError, Unreachable
from picloud.cli.pic.credentials import Credentials, forget, load_saved, normalize_url, save
from picloud.cli.pic.examples import example
from picloud.cli.pic.output import Column
from picloud.cli.pic.session import session_of

app = typer.Typer()

USER_COLUMNS = (
    Column.of("server"),
    Column.of("kind"),
    Column.of("username"),
    Column.of("role"),
    Column.of("name", "key"),
    Column.of("scopes"),
    Column.of("id"),
)


@app.command(
    epilog=example(
        "pic login http://127.0.0.1:8080 -u admin",
        "pic login https://picloud.example.com --token pic_0123...",
    )
)
def login(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Argument(
            metavar="URL",
            help="Server URL (default: PICLOUD_URL, else the saved one, else "
            "http://127.0.0.1:8080).",
        ),
    ] = None,
    username: Annotated[str | None, typer.Option("--username", "-u")] = None,
    password: Annotated[
        str | None, typer.Option("--password", "-p", help="Prompted for (hidden) when missing.")
    ] = None,
    token: Annotated[
        str | None, typer.Option(help="Log in with an API key or session token instead.")
    ] = None,
) -> None:
    """Log in to a PiCloud server and save the URL and token (file mode 0600)."""
    session = session_of(ctx)
    url = normalize_url(url) if url else session.credentials().url
    if token:
        user = session.client(url, token).me()
    else:
        username = username or typer.prompt("Username")
        password = password or typer.prompt("Password", hide_input=True)
        answer = session.client(url, None).login(username, password)
        token, user = answer["token"], answer["user"]
    if user.get("kind") == "api_key":
        name, who = user["name"], f"with API key '{user['name']}'"
    else:
        name, who = user["username"], f"as {user['username']} ({user['role']})"
    save(session.credentials_file, Credentials(url=url, token=token, username=name))
    session.show.note(f"logged in to {url} {who}")
    if session.environ.get("PICLOUD_TOKEN"):
        session.show.note("note: PICLOUD_TOKEN is set and overrides the saved token")


@app.command(epilog=example("pic logout"))
def logout(ctx: typer.Context) -> None:
    """End the session on the server and forget the saved credentials."""
    session = session_of(ctx)
    saved = load_saved(session.credentials_file)
    if saved is None:
        session.show.note("not logged in")
        return
    if saved.token:
        try:
            session.client(saved.url, saved.token).logout()
        except (ApiError, Unreachable) as exc:
            # The local token goes either way; say why the server may still honour it.
            session.show.note(f"note: the server did not end the session ({exc})")
    forget(session.credentials_file)
    session.show.note(f"logged out of {saved.url}")


@app.command(epilog=example("pic whoami"))
def whoami(ctx: typer.Context) -> None:
    """Show who the current credentials belong to, and on which server."""
    session = session_of(ctx)
    user = session.api.me()
    session.show.record({"server": session.api.base_url, **user}, USER_COLUMNS)
