"""The Jinja2 environment of the dashboard: templates, filters and URL helpers.

Filters turn stored values into what a person reads::

    >>> percent(0.1234)
    '12.3%'
    >>> percent(None)
    '—'
    >>> duration(0.42), duration(1534.0)
    ('0.42 ms', '1.53 s')
    >>> byte_size(1_048_576), byte_size(1500)
    ('1 MiB', '1500 B')
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from jinja2 import pass_context
from markupsafe import Markup
from starlette.templating import Jinja2Templates

from picloud.manager.auth.csrf import CSRF_FORM_FIELD
from picloud.manager.dashboard.urls import app_url, script_url

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
STATIC_PREFIX = "/admin/static/"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def duration(milliseconds: float | None) -> str:
    if milliseconds is None:
        return "—"
    if milliseconds < 1000:
        return f"{milliseconds:.2f} ms"
    return f"{milliseconds / 1000:.2f} s"


def byte_size(value: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size and value % size == 0:
            return f"{value // size} {unit}"
    return f"{value} B"


def timestamp(value: datetime | None) -> str:
    """A stored time as UTC, to the second: '2025-01-31 09:05:00 UTC'."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, roughly: 'just now', '5 min ago', '3 h ago', '2 days ago'."""
    if value is None:
        return "never"
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    if seconds < 45:
        return "just now"
    for unit, size in (("day", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            count = int(seconds // size)
            plural = "s" if unit == "day" and count > 1 else ""
            return f"{count} {unit}{plural} ago"
    return "just now"


@cache
def static_url(name: str) -> str:
    """The URL of a file in static/, with a content hash so browsers never keep a stale copy."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"{STATIC_PREFIX}{name}?v={digest}"


@pass_context
def csrf_field(context: dict) -> Markup:
    """The hidden field carrying the session's CSRF token; every form of a signed-in page has it."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        CSRF_FORM_FIELD, context.get("csrf_token") or ""
    )


def create_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    env = templates.env
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters.update(
        percent=percent, duration=duration, byte_size=byte_size, timestamp=timestamp, ago=ago
    )
    env.globals.update(
        static_url=static_url, app_url=app_url, script_url=script_url, csrf_field=csrf_field
    )
    return templates
