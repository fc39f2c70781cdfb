"""Where `pic` keeps the server URL and token between runs, and how the environment overrides them.

The file is `credentials.json` in the platform config directory (`~/.config/picloud` on Linux,
honouring `XDG_CONFIG_HOME`), or in `PICLOUD_CONFIG_DIR` when set. It holds a bearer token, so
it is written with mode 0600 inside a 0700 directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import typer

DEFAULT_URL = "http://127.0.0.1:8080"
FILE_NAME = "credentials.json"


class CredentialsError(Exception):
    """The saved credentials file exists but cannot be used."""


@dataclass(frozen=True)
class Credentials:
    url: str
    token: str | None = None
    username: str | None = None


def normalize_url(url: str) -> str:
    """A server URL as `pic` stores it: with a scheme, without a trailing slash.

    >>> normalize_url("localhost:8080/")
    'http://localhost:8080'
    >>> normalize_url("https://picloud.example.com")
    'https://picloud.example.com'
    """
    url = url.strip().rstrip("/")
    return url if "://" in url else f"http://{url}"


def credentials_path(environ: Mapping[str, str]) -> Path:
    """The credentials file for this environment.

    >>> credentials_path({"PICLOUD_CONFIG_DIR": "/tmp/pic"})
    PosixPath('/tmp/pic/credentials.json')
    """
    directory = environ.get("PICLOUD_CONFIG_DIR") or typer.get_app_dir("picloud")
    return Path(directory) / FILE_NAME


def load_saved(path: Path) -> Credentials | None:
    """The credentials saved by `pic login`, or None when there are none."""
    try:
        data = json.loads(path.read_text())
        return Credentials(
            url=str(data["url"]), token=data.get("token"), username=data.get("username")
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise CredentialsError(
            f"cannot read {path} ({exc}); run `pic login` again or delete the file"
        ) from None


def save(path: Path, credentials: Credentials) -> None:
    """Write the file atomically, readable by its owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(credentials), handle, indent=2)
    os.chmod(temporary, 0o600)  # O_CREAT's mode does not apply to a leftover file
    os.replace(temporary, path)


def forget(path: Path) -> bool:
    """Delete the saved credentials; False when there were none."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def effective(saved: Credentials | None, environ: Mapping[str, str]) -> Credentials:
    """What this run uses: `PICLOUD_URL` and `PICLOUD_TOKEN` win over the saved values.

    >>> effective(Credentials("http://a:1", "t1", "ann"), {"PICLOUD_TOKEN": "t2"})
    Credentials(url='http://a:1', token='t2', username=None)
    >>> effective(None, {})
    Credentials(url='http://127.0.0.1:8080', token=None, username=None)
    """
    base = saved or Credentials(DEFAULT_URL)
    url = environ.get("PICLOUD_URL") or base.url
    token = environ.get("PICLOUD_TOKEN") or base.token
    # A username saved for another server or token would be a lie about who is calling.
    username = base.username if (url, token) == (base.url, base.token) else None
    return Credentials(url=normalize_url(url), token=token, username=username)
