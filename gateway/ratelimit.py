"""Per-subject and per-partner rate limits: token buckets with rates per role.

A bucket holds up to `burst` tokens and refills at `per_second`; each request takes one.
The app answers a denial with HTTP 429, `Retry-After: <decision.retry_after_header>` and
`extensions.code = RATE_LIMITED`.

Memory stays bounded: a bucket that has refilled to full is the same as no bucket, so idle
buckets are dropped, and at most `max_keys` buckets are kept (least recently used go first).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from schema.principal import Principal

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Rate:
    """A bucket's shape: `burst` requests at once, refilled at `per_second`."""

    per_second: float
    burst: float

    def __post_init__(self) -> None:
        if not (0 < self.per_second < math.inf and 1 <= self.burst < math.inf):  # and not nan
            raise ValueError("a rate needs a finite per_second > 0 and burst >= 1")


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether a request may go on; if not, how long until it may."""

    allowed: bool
    retry_after_s: float = 0.0

    @property
    def retry_after_header(self) -> str:
        """The `Retry-After` value: whole seconds, rounded up, at least 1."""
        return str(max(1, math.ceil(self.retry_after_s)))


@dataclass(slots=True)
class _Bucket:
    rate: Rate
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.rate.burst, self.tokens + elapsed * self.rate.per_second)
        self.updated = now

    def wait_s(self) -> float:
        return max(0.0, (1.0 - self.tokens) / self.rate.per_second)

    def full(self, now: float) -> bool:
        return self.tokens + (now - self.updated) * self.rate.per_second >= self.rate.burst


class RateLimiter:
    """Token buckets keyed by caller, with the rate chosen by role.

    limiter = RateLimiter({"partner": Rate(per_second=2, burst=10)}, default=Rate(20, 40))
    decision = limiter.check_principal(principal)
    """

    def __init__(
        self,
        rates: Mapping[str, Rate],
        *,
        default: Rate,
        clock: Clock = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rates = dict(rates)
        self.default = default
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def rate_for(self, roles: Iterable[str]) -> Rate:
        """The most generous rate among the roles, or the default when none has one."""
        known = [self.rates[role] for role in roles if role in self.rates]
        return max(known, key=lambda r: (r.per_second, r.burst), default=self.default)

    def check(self, key: str, role: str | None = None) -> RateDecision:
        """Take one token from `key`'s bucket, shaped by `role`'s rate."""
        return self.check_keys([key], self.rate_for([role] if role else []))

    def check_principal(
        self, principal: Principal, *, fallback_key: str = "anonymous"
    ) -> RateDecision:
        """Check the caller's own bucket and, for a partner, the partner's shared bucket.

        A token is taken only when every bucket has one, so a denied request costs nothing.
        Anonymous callers share `fallback_key` (pass the client address to split them).
        """
        keys = [f"subject:{principal.subject}" if principal.subject else fallback_key]
        if principal.partner_id:
            keys.append(f"partner:{principal.partner_id}")
        return self.check_keys(keys, self.rate_for(principal.roles))

    def check_keys(self, keys: Iterable[str], rate: Rate) -> RateDecision:
        """Take one token from each bucket in `keys` if all have one."""
        now = self._clock()
        self._evict(now)
        buckets = [self._bucket(key, rate, now) for key in keys]
        wait = max((b.wait_s() for b in buckets), default=0.0)
        if wait > 0:
            return RateDecision(allowed=False, retry_after_s=wait)
        for bucket in buckets:
            bucket.tokens -= 1.0
        return RateDecision(allowed=True)

    def __len__(self) -> int:
        return len(self._buckets)

    def _bucket(self, key: str, rate: Rate, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate, rate.burst, now)
        bucket.refill(now)
        if bucket.rate != rate:  # the caller's roles changed: keep its tokens, not its shape
            bucket.rate = rate
            bucket.tokens = min(bucket.tokens, rate.burst)
        self._buckets.move_to_end(key)
        return bucket

    def _evict(self, now: float) -> None:
        while self._buckets:
            key, oldest = next(iter(self._buckets.items()))
            if not oldest.full(now) and len(self._buckets) < self.max_keys:
                return
            del self._buckets[key]
