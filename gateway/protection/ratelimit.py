"""Rate limits: token buckets per subject and partner (rates per role), and per client
address for failed authentications (`FailedAuthLimiter`, checked before any token is verified).

A bucket holds up to `burst` tokens and refills at `per_second`; each request takes one.
The app answers a denial with HTTP 429, `Retry-After: <decision.retry_after_header>` and
`extensions.code = RATE_LIMITED`.

Memory stays bounded: a bucket that has refilled to full is the same as no bucket, so idle
buckets are dropped, and at most `max_keys` buckets are kept (least recently used go first).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.protection.http_guard import RequestRefused
from schema.principal import Principal

Clock = Callable[[], float]
logger = logging.getLogger("crossdock.ratelimit")


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

    `failed_auth` (optional) is the per-address limiter of failed authentications the app
    consults before verifying a token; it rides along so one object carries every limit.
    """

    def __init__(
        self,
        rates: Mapping[str, Rate],
        *,
        default: Rate,
        clock: Clock = time.monotonic,
        max_keys: int = 100_000,
        failed_auth: FailedAuthLimiter | None = None,
    ) -> None:
        self.rates = dict(rates)
        self.default = default
        self.max_keys = max_keys
        self.failed_auth = failed_auth
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

    async def take(self, principal: Principal, *, fallback_key: str) -> RateDecision:
        """What the app awaits per request: `check_principal` here; a round trip to Redis in
        the shared limiter (gateway.protection.shared_ratelimit)."""
        return self.check_principal(principal, fallback_key=fallback_key)

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

    def peek(self, key: str) -> RateDecision:
        """Whether `key`'s bucket holds a token, without taking it (no bucket: a full one)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return RateDecision(allowed=True)
        bucket.refill(self._clock())
        wait = bucket.wait_s()
        return RateDecision(allowed=wait <= 0, retry_after_s=wait)

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


class FailedAuthLimiter:
    """Throttles failed authentications per client address, before any token is verified.

        failed = FailedAuthLimiter(Rate(per_second=1, burst=20))
        if not failed.check(address).allowed: ...    # 429 RATE_LIMITED, token left unverified
        failed.failed(address)                       # after an authentication failed

    Only failures take tokens: valid callers sharing the address (behind one NAT) never drain
    it, and their own per-subject limits still apply. Once the bucket is empty, every request
    from the address that carries credentials is refused unverified, valid ones too: telling
    them apart would cost the verification the limit exists to save (GitHub's API likewise
    refuses even valid credentials for a while after repeated bad ones). The refusal lasts
    one refill (1 / per_second s); after it, one attempt per refill is verified.
    A refused address is logged at most once per `log_every_s`; tokens are never logged.
    """

    def __init__(
        self,
        rate: Rate,
        *,
        clock: Clock = time.monotonic,
        max_keys: int = 100_000,
        log_every_s: float = 60.0,
    ) -> None:
        self.rate = rate
        self.log_every_s = log_every_s
        self._clock = clock
        self._buckets = RateLimiter({}, default=rate, clock=clock, max_keys=max_keys)
        self._logged: OrderedDict[str, float] = OrderedDict()

    def check(self, address: str) -> RateDecision:
        """May a request from `address` have its credentials verified? Takes nothing."""
        decision = self._buckets.peek(address)
        if not decision.allowed:
            self._log_refusal(address, decision)
        return decision

    def failed(self, address: str) -> None:
        """An authentication from `address` failed: take a token (none left: nothing to take)."""
        self._buckets.check_keys([address], self.rate)

    async def admit(self, address: str) -> RateDecision:
        """What the app awaits before verifying credentials (`check`, or Redis when shared)."""
        return self.check(address)

    async def record_failure(self, address: str) -> None:
        """What the app awaits after a failed authentication (`failed`, or Redis)."""
        self.failed(address)

    def __len__(self) -> int:
        return len(self._buckets)

    def _log_refusal(self, address: str, decision: RateDecision) -> None:
        now = self._clock()
        while self._logged and (
            now - next(iter(self._logged.values())) >= self.log_every_s
            or len(self._logged) >= self._buckets.max_keys
        ):
            self._logged.popitem(last=False)
        if address in self._logged:
            return
        self._logged[address] = now
        logger.warning(
            "refusing credentials from %s unverified for %s s: more than %g failed "
            "authentications (next note about it in %g s at the earliest)",
            address,
            decision.retry_after_header,
            self.rate.burst,
            self.log_every_s,
        )


def client_address(client: Any) -> str:
    """The rate-limit key of an ASGI `scope["client"]`: the IP, an IPv6 address's /64.

    One host usually holds a whole IPv6 /64, so its addresses share one bucket.
    """
    if not client:
        return "unknown"
    host = str(client[0])[:64]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host  # a unix socket or a test client's name
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def rate_limited(decision: RateDecision, what: str) -> RequestRefused:
    """The 429 answer to a denied request: Retry-After, RATE_LIMITED, `retryAfter`."""
    return RequestRefused(
        429,
        "RATE_LIMITED",
        f"{what}; retry in {decision.retry_after_header} s.",
        headers={"Retry-After": decision.retry_after_header},
        retryAfter=int(decision.retry_after_header),
    )
