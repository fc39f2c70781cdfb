"""Ids and timestamps for rows about to be written."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def new_id() -> str:
    """A fresh row id: a random UUID as its 36-character string."""
    return str(uuid.uuid4())


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
