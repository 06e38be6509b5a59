"""Backend protection: a circuit breaker and a retry budget, one of each per backend.

The HTTP request helper calls them around every backend call:

    breaker.before_call()            # raises BackendUnavailable while the circuit is open
    budget.record_request()
    ... send ...
    breaker.record(success=ok)
    if failed and budget.can_retry(): retry

Both are pure state machines over an injectable monotonic clock, so tests drive them with a
fake clock. They are per backend and shared across requests (they hold no user data).
Across processes (`[state] share_breakers`, resolvers.state.redis_breakers): `on_open` hears
each opening caused by this process's failures, and `open_for` opens the circuit because
another process's did.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from resolvers.errors import BackendUnavailable

Clock = Callable[[], float]
BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class Protection:
    """Knobs of one backend's circuit breaker and retry budget (connector options).

    The defaults are on: 5 failures (connect error, timeout, 5xx, 429) within 10 s open the
    circuit for 5 s, then one probe decides; retries stay within 20 % of the requests plus a
    reserve of 5 per second. `enabled=False` turns both off (every call goes through).

        ZohoOptions(..., protection=Protection(failure_threshold=10, cooldown_s=30))
    """

    failure_threshold: int = 5
    window_s: float = 10.0
    cooldown_s: float = 5.0
    half_open_probes: int = 1
    retry_budget_ratio: float = 0.2
    retry_budget_min_per_s: float = 5.0
    enabled: bool = True

    def breaker(self, system: str, clock: Clock = time.monotonic) -> CircuitBreaker | None:
        """A fresh breaker for `system`, or None when protection is off."""
        if not self.enabled:
            return None
        return CircuitBreaker(
            system,
            failure_threshold=self.failure_threshold,
            window_s=self.window_s,
            cooldown_s=self.cooldown_s,
            half_open_probes=self.half_open_probes,
            clock=clock,
        )

    def budget(self, clock: Clock = time.monotonic) -> RetryBudget | None:
        """A fresh retry budget over the breaker's window, or None when protection is off."""
        if not self.enabled:
            return None
        return RetryBudget(
            ratio=self.retry_budget_ratio,
            min_per_s=self.retry_budget_min_per_s,
            window_s=self.window_s,
            clock=clock,
        )


class CircuitBreaker:
    """Fails fast while a backend keeps failing, then lets a probe through.

    closed → open after `failure_threshold` failures within `window_s` seconds; open → calls
    raise `BackendUnavailable` at once for `cooldown_s`; then half open → up to
    `half_open_probes` calls go through: all succeed → closed, one fails → open again.

        breaker = CircuitBreaker("scm", failure_threshold=5, window_s=10, cooldown_s=5)
    """

    def __init__(
        self,
        system: str,
        *,
        failure_threshold: int = 5,
        window_s: float = 10.0,
        cooldown_s: float = 5.0,
        half_open_probes: int = 1,
        clock: Clock = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or half_open_probes < 1:
            raise ValueError("failure_threshold and half_open_probes must be at least 1")
        if window_s <= 0 or cooldown_s <= 0:
            raise ValueError("window_s and cooldown_s must be positive")
        self.system = system
        self.failure_threshold = failure_threshold
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self.half_open_probes = half_open_probes
        self._clock = clock
        self._failures: deque[float] = deque()
        self._state: BreakerState = "closed"
        self._opened_at = 0.0
        self._probes_started: list[float] = []
        self._probe_successes = 0
        self.on_open: Callable[[float], None] | None = None  # called with the cool-down

    @property
    def state(self) -> BreakerState:
        """The current state; an open circuit whose cool-down is over reads as half open."""
        if self._state == "open" and self._clock() >= self._opened_at + self.cooldown_s:
            return "half_open"
        return self._state

    def before_call(self) -> None:
        """Admit a call or raise `BackendUnavailable` without touching the backend."""
        now = self._clock()
        if self._state == "open":
            if now < self._opened_at + self.cooldown_s:
                self._fail_fast(self._opened_at + self.cooldown_s - now)
            self._to_half_open()
        if self._state == "half_open":
            self._admit_probe(now)

    def record(self, success: bool) -> None:
        """Record the outcome of an admitted call."""
        now = self._clock()
        if self._state == "half_open":
            self._record_probe(success, now)
        elif self._state == "closed" and not success:
            self._failures.append(now)
            self._prune(now)
            if len(self._failures) >= self.failure_threshold:
                self._open(now)
        # Outcomes of calls admitted before the circuit opened change nothing while open.

    def open_for(self, seconds: float) -> None:
        """Open the circuit for `seconds` because another process's opened (on_open is not
        called: that process already told the others). An open circuit that lasts longer is
        left as it is."""
        now = self._clock()
        opened_at = now - self.cooldown_s + min(seconds, self.cooldown_s)
        if self._state == "open" and self._opened_at >= opened_at:
            return
        self._state = "open"
        self._opened_at = opened_at
        self._probes_started = []
        self._probe_successes = 0

    def _admit_probe(self, now: float) -> None:
        # A probe that never reported (cancelled) frees its slot after one cool-down.
        self._probes_started = [t for t in self._probes_started if now - t < self.cooldown_s]
        if len(self._probes_started) >= self.half_open_probes:
            self._fail_fast(None)
        self._probes_started.append(now)

    def _record_probe(self, success: bool, now: float) -> None:
        if self._probes_started:
            self._probes_started.pop(0)
        if not success:
            self._open(now)
            return
        self._probe_successes += 1
        if self._probe_successes >= self.half_open_probes:
            self._state = "closed"
            self._failures.clear()

    def _fail_fast(self, seconds_left: float | None) -> None:
        if seconds_left is None:
            when = "a probe is in progress"
        else:
            when = f"next probe in {math.ceil(seconds_left)} s"
        raise BackendUnavailable(
            f"{self.system} is failing: circuit open after {self.failure_threshold} failures "
            f"within {self.window_s:g} s; {when}",
            system=self.system,
            circuit="open",
        )

    def _open(self, now: float) -> None:
        self._state = "open"
        self._opened_at = now
        self._probes_started = []
        self._probe_successes = 0
        if self.on_open is not None:
            self.on_open(self.cooldown_s)

    def _to_half_open(self) -> None:
        self._state = "half_open"
        self._probes_started = []
        self._probe_successes = 0

    def _prune(self, now: float) -> None:
        while self._failures and now - self._failures[0] > self.window_s:
            self._failures.popleft()


class RetryBudget:
    """Allows retries only while they stay a small share of the requests.

    Within a sliding `window_s`, retries may not exceed `ratio` × requests plus a reserve of
    `min_per_s` × `window_s`, so a struggling backend sees at most (1 + ratio) times the load
    instead of `attempts` times (the idea of Finagle's RetryBudget).

        budget = RetryBudget(ratio=0.2, min_per_s=5)
    """

    _SLOTS = 10

    def __init__(
        self,
        *,
        ratio: float = 0.2,
        min_per_s: float = 5.0,
        window_s: float = 10.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if ratio < 0 or min_per_s < 0 or window_s <= 0:
            raise ValueError("ratio and min_per_s must be non-negative, window_s positive")
        self.ratio = ratio
        self.min_per_s = min_per_s
        self.window_s = window_s
        self._clock = clock
        self._slot_s = window_s / self._SLOTS
        # One [slot number, requests, retries] entry per slot that saw traffic.
        self._slots: deque[list[int]] = deque()

    def record_request(self) -> None:
        """Count one first attempt (not a retry)."""
        self._current()[1] += 1

    def can_retry(self) -> bool:
        """Answer whether one retry fits the budget, and count it when it does."""
        slot = self._current()
        requests = sum(s[1] for s in self._slots)
        retries = sum(s[2] for s in self._slots)
        if retries + 1 > self.ratio * requests + self.min_per_s * self.window_s:
            return False
        slot[2] += 1
        return True

    def _current(self) -> list[int]:
        number = math.floor(self._clock() / self._slot_s)
        while self._slots and self._slots[0][0] <= number - self._SLOTS:
            self._slots.popleft()
        if not self._slots or self._slots[-1][0] != number:
            self._slots.append([number, 0, 0])
        return self._slots[-1]
