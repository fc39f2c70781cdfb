"""What the admin API and the dashboard share: settings, the database and a few live objects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from picloud.config import Settings
from picloud.manager.auth.rate_limit import LoginRateLimiter
from picloud.store.database import Database
from picloud.store.new_rows import utc_now

#: `match_preview(method, url)` answers `POST /api/v1/admin/routes:match` (SPEC section 8).
MatchPreview = Callable[[str, str], dict[str, Any]]
#: `invoke(request)` hands an HTTP request to the data plane in this process and returns its
#: answer, body read. The dashboard's Test tab sends `/api/v1/execute/{script_id}/...` this way,
#: so a test run takes the same guard, executor, limits and execution record as any other call.
Invoke = Callable[[httpx.Request], Awaitable[httpx.Response]]


@dataclass
class ManagerContext:
    """Built once by the composition root; handed to `create_admin_api` and the dashboard.

    `setup_token` is the one-time token of the first-owner setup link: set by
    `ensure_first_owner` while no admin user exists, cleared once the first owner does.
    `clock` and `stream_poll_seconds` are here so tests can move time and follow streams fast.
    `invoke` is set by the composition root once the data plane exists (None: not wired).
    """

    settings: Settings
    database: Database
    match_preview: MatchPreview
    setup_token: str | None = None
    login_limiter: LoginRateLimiter = field(default_factory=LoginRateLimiter)
    clock: Callable[[], datetime] = utc_now
    stream_poll_seconds: float = 1.0
    invoke: Invoke | None = None
