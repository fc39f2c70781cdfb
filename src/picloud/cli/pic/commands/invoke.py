"""`pic invoke`: call a script by id, the way a client would, and show what it answered."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from picloud.cli.pic.api import EXECUTION_ID_HEADER
from picloud.cli.pic.commands.scripts import ScriptArg
from picloud.cli.pic.examples import example
from picloud.cli.pic.output import stdout_is_terminal
from picloud.cli.pic.refs import parse_header, read_data, script_id
from picloud.cli.pic.session import session_of

app = typer.Typer()


def is_json(body: bytes) -> bool:
    """Whether a request body parses as JSON (then it is sent as application/json).

    >>> is_json(b'{"name": "Ada"}'), is_json(b"name=Ada")
    (True, False)
    """
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def suffix_path(path: str | None) -> str:
    """The part of the request path after the script id.

    >>> suffix_path(None), suffix_path("users/7?full=1"), suffix_path("/x")
    ('', '/users/7?full=1', '/x')
    """
    if not path:
        return ""
    return path if path.startswith("/") else f"/{path}"


@app.command(
    epilog=example(
        "pic invoke default/hello",
        "pic invoke shop/checkout -d '{\"cart\": 7}'",
        "pic invoke shop/upload -X PUT -d @photo.jpg -H 'Content-Type: image/jpeg'",
        "pic invoke shop/users --path '/users/7?full=1'",
    )
)
def invoke(
    ctx: typer.Context,
    ref: ScriptArg,
    method: Annotated[
        str | None, typer.Option("--method", "-X", help="Default: POST with -d, else GET.")
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            "-d",
            help="Body: text, @FILE or @- (stdin); JSON text is sent as application/json.",
        ),
    ] = None,
    headers: Annotated[
        list[str] | None,
        typer.Option("--header", "-H", help='"Name: value"; repeat for more.'),
    ] = None,
    path: Annotated[
        str | None,
        typer.Option(help="Request path (and query) the script sees; default: /."),
    ] = None,
) -> None:
    """Call a script (no route needed) and print its response body; status goes to stderr.

    Exits 1 when the script answers with a status outside 2xx.
    """
    session = session_of(ctx)
    body = read_data(data) if data is not None else None
    sent = dict(parse_header(h) for h in headers or ())
    if body is not None and is_json(body) and not any(k.lower() == "content-type" for k in sent):
        sent["Content-Type"] = "application/json"
    verb = (method or ("POST" if body is not None else "GET")).upper()
    target = script_id(session.api, ref)
    response = session.api.invoke(target, verb, suffix_path(path), body=body, headers=sent)
    sys.stdout.buffer.write(response.content)
    if stdout_is_terminal() and response.content and not response.content.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
    status = f"{response.status_code} {response.reason_phrase}"
    execution = response.headers.get(EXECUTION_ID_HEADER, "(none)")
    if response.is_success:
        session.show.note(f"{status} · execution {execution}")
        return
    session.show.error(f"{status} · execution {execution} · see `pic logs {ref}`")
    raise typer.Exit(1)
