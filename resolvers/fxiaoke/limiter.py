"""Client-side limits: 100 calls per 20 s per interface, and the tenant's daily quota.

Fxiaoke sends no RateLimit or Retry-After headers (◐ [X-AE rate-limits]), so the connector
keeps its own count. `acquire(path)` waits (an injected sleep) until the path's window has
room, and refuses outright once the day's calls reach the quota: retrying cannot help before
00:00 in the tenant's zone, so that is a BackendUnavailable at once, with no HTTP call.
`exhausted()` records a 30002 from the server (its count may include other clients).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from resolvers.errors import BackendUnavailable
from resolvers.http import Sleep


class CallLimiter:
    """One tenant's call budget, shared by every request of one connector."""

    def __init__(
        self,
        *,
        calls: int,
        window_s: float,
        daily_quota: int,
        tz: str,
        sleep: Sleep,
        clock: Callable[[], float],
        wall: Callable[[], float],
    ) -> None:
        self.calls, self.window_s, self.daily_quota = calls, window_s, daily_quota
        self.zone = ZoneInfo(tz)
        self.sleep, self.clock, self.wall = sleep, clock, wall
        self._windows: defaultdict[str, deque[float]] = defaultdict(deque)
        self._day = ""
        self.used_today = 0
        self.waited_s = 0.0

    async def acquire(self, interface: str) -> None:
        self._check_quota()
        window = self._windows[interface]
        while True:
            now = self.clock()
            while window and now - window[0] >= self.window_s:
                window.popleft()
            if len(window) < self.calls:
                break
            wait = window[0] + self.window_s - now
            self.waited_s += wait
            await self.sleep(wait)
        window.append(self.clock())
        self.used_today += 1

    def exhausted(self) -> None:
        self._roll_day()
        self.used_today = max(self.used_today, self.daily_quota)

    def quota_error(self, detail: str = "") -> BackendUnavailable:
        return BackendUnavailable(
            f"The CRM's daily API quota ({self.daily_quota} calls, Fxiaoke) is used up{detail}; "
            f"it resets at 00:00 {self.zone.key}. Not retried: buy more quota or raise "
            "crm.daily_quota if the tenant has more",
            system="crm",
            backend_code="30002",
            public=True,
        )

    def _check_quota(self) -> None:
        self._roll_day()
        if self.used_today >= self.daily_quota:
            raise self.quota_error()

    def _roll_day(self) -> None:
        day = datetime.fromtimestamp(self.wall(), self.zone).date().isoformat()
        if day != self._day:
            self._day, self.used_today = day, 0
