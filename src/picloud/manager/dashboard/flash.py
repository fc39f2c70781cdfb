"""One-shot messages that survive the redirect after a form post (Post/Redirect/Get).

The message rides in a short-lived cookie scoped to the dashboard and is shown, escaped, by the
next page rendered, which also clears it::

    >>> decode_flashes(encode_flashes([Flash("success", "App 'shop' created")]))
    [Flash(kind='success', text="App 'shop' created")]
    >>> decode_flashes("not base64!")
    []
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

FLASH_COOKIE = "picloud_flash"
FLASH_MAX_AGE = 60  # seconds: long enough for one redirect, short enough to never linger
FlashKind = Literal["success", "error", "info"]
_KINDS = ("success", "error", "info")


@dataclass(frozen=True, slots=True)
class Flash:
    kind: FlashKind
    text: str


def encode_flashes(flashes: list[Flash]) -> str:
    raw = json.dumps([[f.kind, f.text] for f in flashes]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_flashes(value: str | None) -> list[Flash]:
    """The messages in a cookie value; anything malformed is dropped, never an error."""
    if not value:
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(value.encode()))
    except (binascii.Error, ValueError):
        return []
    if not isinstance(items, list):
        return []
    return [
        Flash(kind, text)
        for kind, text in (i for i in items if isinstance(i, list) and len(i) == 2)
        if kind in _KINDS and isinstance(text, str)
    ]


def pending_flashes(request: Request) -> list[Flash]:
    return decode_flashes(request.cookies.get(FLASH_COOKIE))


def set_flash(response: Response, flash: Flash, request: Request) -> None:
    response.set_cookie(
        FLASH_COOKIE,
        encode_flashes([*pending_flashes(request), flash]),
        max_age=FLASH_MAX_AGE,
        path="/admin",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_flashes(response: Response) -> None:
    response.delete_cookie(FLASH_COOKIE, path="/admin")
