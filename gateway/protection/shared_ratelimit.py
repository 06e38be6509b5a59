"""Rate limits kept in Redis, so every worker and replica counts one caller once.

    limiter = shared_rate_limiter(hardening.rate_limiter, buckets)   # None stays None

The same rates, keys and answers as the in-process limiter (gateway.protection.ratelimit):
a subject's bucket and its partner's shared bucket, the per-address bucket of failed
authentications; only where the tokens live changes (resolvers.state.redis_buckets, one
Lua round trip per check). Redis not answering refuses the request with 503
STATE_UNAVAILABLE: limits are never silently dropped or kept per process instead.
"""

from __future__ import annotations

from resolvers.state.errors import StateUnavailable
from resolvers.state.redis_buckets import RedisBuckets
from schema.principal import Principal

from .http_guard import RequestRefused
from .ratelimit import FailedAuthLimiter, RateDecision, RateLimiter


class SharedFailedAuthLimiter(FailedAuthLimiter):
    """Failed authentications per client address, counted in Redis."""

    def __init__(self, local: FailedAuthLimiter, buckets: RedisBuckets) -> None:
        super().__init__(local.rate, log_every_s=local.log_every_s)
        self._redis = buckets

    async def admit(self, address: str) -> RateDecision:
        decision = await _take(self._redis, [f"auth:{address}"], self, cost=0)
        if not decision.allowed:
            self._log_refusal(address, decision)
        return decision

    async def record_failure(self, address: str) -> None:
        await _take(self._redis, [f"auth:{address}"], self, cost=1)


class SharedRateLimiter(RateLimiter):
    """Buckets per subject and partner, counted in Redis (rates chosen by role as before)."""

    def __init__(self, local: RateLimiter, buckets: RedisBuckets) -> None:
        failed = local.failed_auth
        super().__init__(
            local.rates,
            default=local.default,
            failed_auth=None if failed is None else SharedFailedAuthLimiter(failed, buckets),
        )
        self._redis = buckets

    async def take(self, principal: Principal, *, fallback_key: str) -> RateDecision:
        keys = [f"subject:{principal.subject}" if principal.subject else fallback_key]
        if principal.partner_id:
            keys.append(f"partner:{principal.partner_id}")
        rate = self.rate_for(principal.roles)
        allowed, wait_s = await _call(self._redis, keys, rate.per_second, rate.burst, 1)
        return RateDecision(allowed=allowed, retry_after_s=wait_s)


async def _take(
    buckets: RedisBuckets, keys: list[str], limiter: FailedAuthLimiter, *, cost: int
) -> RateDecision:
    rate = limiter.rate
    allowed, wait_s = await _call(buckets, keys, rate.per_second, rate.burst, cost)
    return RateDecision(allowed=allowed, retry_after_s=wait_s)


async def _call(
    buckets: RedisBuckets, keys: list[str], per_second: float, burst: float, cost: int
) -> tuple[bool, float]:
    try:
        return await buckets.take(keys, per_second=per_second, burst=burst, cost=cost)
    except StateUnavailable as exc:
        raise RequestRefused(
            503, StateUnavailable.code, exc.message, headers={"Retry-After": "5"}
        ) from exc


def shared_rate_limiter(
    local: RateLimiter | None, buckets: RedisBuckets | None
) -> RateLimiter | None:
    """The limiter the app uses: the in-process one, or the same limits in Redis."""
    if local is None or buckets is None:
        return local
    return SharedRateLimiter(local, buckets)
