"""The tenant's call limits: 100 calls per 20 s per interface, a per-second cap, a daily quota.

Per interface (◐ [X-AE rate-limits]): the 101st call to one path within 20 s gets `14001`.
An optional per-second cap over all paths answers `30004`. The daily quota (the purchased
packs, 100,000 calls each) answers `30002` once used up, until 00:00 in the tenant's zone.
The token endpoint has its own limit (10 a minute). Refused calls do not count.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from backends.fxiaoke import envelopes as fx
from backends.fxiaoke.auth import Clock
from backends.fxiaoke.envelopes import FxError


@dataclass(frozen=True)
class LimitSettings:
    interface_calls: int = 100
    interface_window_s: float = 20.0
    per_second: int | None = None  # None: no per-second cap
    daily_quota: int = 100_000
    token_calls_per_minute: int = 10
    tz: str = "Asia/Shanghai"


class Limits:
    """Counts calls per interface and per day; `admit` raises the documented error code."""

    def __init__(self, settings: LimitSettings, clock: Clock) -> None:
        self.settings, self.clock = settings, clock
        self._zone = ZoneInfo(settings.tz)
        self._windows: defaultdict[str, deque[float]] = defaultdict(deque)
        self._day = ""
        self.used_today = 0

    def admit(self, interface: str) -> None:
        now, s = self.clock(), self.settings
        if interface.endswith("/corpAccessToken/get/V2") or interface.endswith("/oauth2.0/token"):
            self._window(interface, now, 60.0, s.token_calls_per_minute)
            return
        self._roll_day(now)
        if self.used_today >= s.daily_quota:
            message = f"今日调用量已用完 daily quota of {s.daily_quota} calls used up"
            raise FxError(fx.DAILY_QUOTA, message)
        if s.per_second is not None:
            self._window("*", now, 1.0, s.per_second, code=fx.PER_SECOND_LIMIT)
        self._window(interface, now, s.interface_window_s, s.interface_calls)
        self.used_today += 1

    def _window(
        self, key: str, now: float, span: float, limit: int, code: int = fx.INTERFACE_LIMIT
    ) -> None:
        calls = self._windows[key]
        while calls and now - calls[0] >= span:
            calls.popleft()
        if len(calls) >= limit:
            raise FxError(code, f"接口调用频率超限 {limit} calls per {span:g}s exceeded")
        calls.append(now)

    def _roll_day(self, now: float) -> None:
        day = datetime.fromtimestamp(now, self._zone).date().isoformat()
        if day != self._day:
            self._day, self.used_today = day, 0
