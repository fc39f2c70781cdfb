"""Ids and timestamps for rows about to be written."""

from __future__ import annotations

from datetime import UTC, datetime

import uuid_utils


def new_id() -> str:
    """A fresh row id: a UUIDv7 (RFC 9562) as its 36-character string.

    Version 7 starts with the time, so new ids land at the end of an index instead of on a
    random page: writing a batch of execution records touches a few pages, not one per record
    (docs/benchmarks.md). The other 74 bits are random.
    """
    return str(uuid_utils.uuid7())


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
