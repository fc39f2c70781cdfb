"""Failed-login throttling per user name and per client address.

A moving window (the `limits` library, in memory) counts failures only; a success clears the
user name's count. The counts live in this process: in a cluster each node limits on its own,
which still bounds guessing to a few attempts per window per node.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class LoginRateLimiter:
    """`retry_after(username, ip)` is 0 while logins may be tried, else seconds to wait."""

    def __init__(
        self,
        *,
        per_username: int = 5,
        per_ip: int = 20,
        window_minutes: int = 15,
    ):
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_username = RateLimitItemPerMinute(per_username, window_minutes)
        self._per_ip = RateLimitItemPerMinute(per_ip, window_minutes)

    def retry_after(self, username: str, ip: str) -> int:
        waits = [
            self._wait(item, key)
            for item, key in ((self._per_username, _user_key(username)), (self._per_ip, ip))
            if not self._limiter.test(item, key)
        ]
        return max(waits, default=0)

    def record_failure(self, username: str, ip: str) -> None:
        self._limiter.hit(self._per_username, _user_key(username))
        self._limiter.hit(self._per_ip, ip)

    def record_success(self, username: str) -> None:
        self._limiter.clear(self._per_username, _user_key(username))

    def _wait(self, item: RateLimitItemPerMinute, key: str) -> int:
        reset_at = self._limiter.get_window_stats(item, key).reset_time
        return max(1, math.ceil(reset_at - time.time()))


def _user_key(username: str) -> str:
    # User names are matched case-insensitively here so "Alice" and "alice" share a budget.
    return "user:" + username.strip().lower()
