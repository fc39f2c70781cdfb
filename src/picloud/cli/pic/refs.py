"""How `pic` arguments name things: `APP/SCRIPT`, `"METHOD PATH"`, `-H "K: V"`, `-d @file`."""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

from picloud.cli.pic.api import PicloudClient
from picloud.cli.pic.session import CliError

_METHOD = re.compile(r"^[A-Za-z]+$")


def parse_script_ref(ref: str) -> tuple[str | None, str]:
    """`APP/SCRIPT` as (app, script name), or a bare script id as (None, id).

    >>> parse_script_ref("shop/checkout")
    ('shop', 'checkout')
    >>> parse_script_ref("0b7c6f7e-7f0a-4d3c-9a57-8f1e2d3c4b5a")
    (None, '0b7c6f7e-7f0a-4d3c-9a57-8f1e2d3c4b5a')
    """
    app, slash, name = ref.partition("/")
    if slash and app and name and "/" not in name:
        return app, name
    try:
        return None, str(uuid.UUID(ref))
    except ValueError:
        raise CliError(f"'{ref}' is not APP/SCRIPT (for example shop/checkout)") from None


def parse_route(spec: str) -> tuple[str | None, str]:
    """`"METHOD PATH"` as (method, path); ANY, or a path alone, means every method (None).

    >>> parse_route("get /users/:id")
    ('GET', '/users/:id')
    >>> parse_route("/static/*")
    (None, '/static/*')
    """
    parts = spec.split()
    if len(parts) == 1 and parts[0].startswith("/"):
        return None, parts[0]
    if len(parts) != 2 or not _METHOD.match(parts[0]) or not parts[1].startswith("/"):
        raise CliError(f'route \'{spec}\' is not "METHOD PATH" (for example "GET /hello")')
    method = parts[0].upper()
    return (None if method == "ANY" else method), parts[1]


def parse_header(header: str) -> tuple[str, str]:
    """`"Name: value"` as (name, value).

    >>> parse_header("X-Trace:  abc ")
    ('X-Trace', 'abc')
    """
    name, colon, value = header.partition(":")
    if not colon or not name.strip():
        raise CliError(f"header '{header}' is not \"Name: value\"")
    return name.strip(), value.strip()


def read_data(data: str) -> bytes:
    """The body given to `-d`: the text itself, `@FILE` for a file's bytes, `@-` for stdin."""
    if data == "@-":
        return sys.stdin.buffer.read()
    if data.startswith("@"):
        try:
            return Path(data[1:]).read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read {data[1:]}: {exc.strerror}") from None
    return data.encode()


def comparable_host(host: str) -> str:
    """A host or claim pattern as the server stores it, enough to find it again.

    >>> comparable_host("API.Example.com.")
    'api.example.com'
    """
    return host.strip().lower().rstrip(".")


def method_label(method: str | None) -> str:
    return method or "ANY"


def script_id(client: PicloudClient, ref: str) -> str:
    """The id of the script that `APP/SCRIPT` names; a script id is used as is, with no call.

    Taking an id without a lookup lets a key with only `script:invoke` or `logs:read` work.
    """
    app, name = parse_script_ref(ref)
    if app is None:
        return name
    for script in client.list_scripts(app=app):
        if script["name"] == name:
            return script["id"]
    raise CliError(f"app '{app}' has no script '{name}' (see `pic scripts ls --app {app}`)")
