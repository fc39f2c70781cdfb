"""Which other apps an answer may name.

A problem such as "slug taken by app X" names another app; a caller limited to one app (an API
key bound to it) must not learn that X exists, so services take a `can_see(app_id)` predicate
and leave out what it refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from picloud.store.apps import AppRecord

CanSee = Callable[[str], bool]


def see_all(_app_id: str) -> bool:
    return True


def app_ref(app: AppRecord, can_see: CanSee) -> dict[str, Any] | None:
    """`{id, slug}` of `app`, or None when the caller may not see it."""
    return {"id": app.id, "slug": app.slug} if can_see(app.id) else None
