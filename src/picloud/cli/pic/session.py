"""What one `pic` run carries from the global options to the commands.

Tests build a `Session` with an httpx transport of their choosing and pass it as the Click
context object; the real executable builds a default one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import httpx
import typer
from rich.console import Console

from picloud.cli.pic.api import ApiError, PicloudClient, Unreachable
from picloud.cli.pic.credentials import (
    Credentials,
    CredentialsError,
    credentials_path,
    effective,
    load_saved,
)
from picloud.cli.pic.output import OutputFormat, Presenter, default_format
from picloud.cli.pic.spinner import spinner


class CliError(Exception):
    """A failure to report to the user as one line on stderr."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    @property
    def line(self) -> str:
        return f"error: {self}"


class CompileError(CliError):
    """A script the server refused, reported the way compilers do: FILE:LINE:COLUMN: message."""

    def __init__(self, file: str, line: int | None, column: int | None, message: str) -> None:
        place = "".join(f":{n}" for n in (line, column) if n) if line else ""
        super().__init__(f"{file}{place}: {message}")

    @property
    def line(self) -> str:
        return str(self)


def error_line(exc: Exception) -> str:
    """The one line `pic` prints for a failure it expected."""
    if isinstance(exc, CliError):
        return exc.line
    if isinstance(exc, ApiError):
        text = exc.title
        if exc.detail and exc.detail.lower() != exc.title.lower():
            text += f": {exc.detail}"
        if exc.status == 401:
            text += " (log in again with `pic login`, or check PICLOUD_TOKEN)"
        return f"error: {text}"
    if isinstance(exc, Unreachable | CredentialsError):
        return f"error: {exc}"
    raise TypeError(f"not an expected failure: {exc!r}")


EXPECTED_FAILURES = (CliError, ApiError, Unreachable, CredentialsError)


@dataclass
class Session:
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    transport: httpx.BaseTransport | None = None
    output: OutputFormat | None = None
    out: Console = field(default_factory=Console)
    err: Console = field(default_factory=lambda: Console(stderr=True))
    _clients: list[PicloudClient] = field(default_factory=list, init=False, repr=False)

    @cached_property
    def show(self) -> Presenter:
        return Presenter(self.output or default_format(), self.out, self.err)

    @property
    def credentials_file(self) -> Path:
        return credentials_path(self.environ)

    def credentials(self) -> Credentials:
        return effective(load_saved(self.credentials_file), self.environ)

    def client(self, url: str, token: str | None) -> PicloudClient:
        made = PicloudClient(
            url,
            token,
            transport=self.transport,
            busy=lambda what: spinner(self.err, f"{what} …"),
        )
        self._clients.append(made)
        return made

    @cached_property
    def api(self) -> PicloudClient:
        """The client for the saved or overriding credentials; refuses when there is no token."""
        credentials = self.credentials()
        if not credentials.token:
            raise CliError("not logged in: run `pic login URL`, or set PICLOUD_TOKEN")
        return self.client(credentials.url, credentials.token)

    def close(self) -> None:
        for made in self._clients:
            made.close()


def session_of(ctx: typer.Context) -> Session:
    return ctx.ensure_object(Session)
