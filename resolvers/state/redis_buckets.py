"""Token buckets in Redis: one Lua script, one round trip per check, atomic across replicas.

    buckets = RedisBuckets(client, prefix="crossdock:")
    allowed, wait_s = await buckets.take(["subject:alice"], per_second=5, burst=10)

Same arithmetic as the in-process buckets (gateway.protection.ratelimit): a bucket holds up to
`burst` tokens and refills at `per_second`; a request takes one token from each key only when
every key has one, so a refused request costs nothing. `cost=0` only looks. Time is Redis's
own clock (`TIME`), so replicas with skewed clocks still share one bucket correctly. A bucket
expires once it would have refilled (a full bucket is the same as none), so idle callers cost
Redis no memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from .errors import StateUnavailable

# KEYS: the buckets; ARGV: per_second, burst, cost. Returns {allowed (0/1), wait in µs}.
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local levels = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(v[1])
  local ts = tonumber(v[2])
  if tokens == nil or ts == nil then
    tokens = burst
    ts = now
  end
  tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
  levels[i] = tokens
  if tokens < 1 then
    wait = math.max(wait, (1 - tokens) / rate)
  end
end
if wait > 0 then
  return {0, math.ceil(wait * 1000000)}
end
if cost > 0 then
  for i, key in ipairs(KEYS) do
    local left = levels[i] - cost
    redis.call('HSET', key, 'tokens', tostring(left), 'ts', tostring(now))
    redis.call('PEXPIRE', key, math.ceil((burst - left) / rate * 1000) + 1000)
  end
end
return {1, 0}
"""


class RedisBuckets:
    """Token buckets shared by every process that uses the same Redis and prefix."""

    def __init__(self, client: Redis, *, prefix: str) -> None:
        self._client = client
        self._prefix = prefix + "bucket:"
        self._script = client.register_script(TAKE)

    async def take(
        self, keys: Sequence[str], *, per_second: float, burst: float, cost: int = 1
    ) -> tuple[bool, float]:
        """(allowed, seconds until a token) after taking `cost` from every bucket in `keys`."""
        names = [self._prefix + key for key in keys]
        try:
            reply: Any = await self._script(keys=names, args=[per_second, burst, cost])
        except RedisError as exc:
            raise redis_unavailable("rate limits", exc) from exc
        allowed, wait_us = int(reply[0]), int(reply[1])
        return allowed == 1, wait_us / 1_000_000


def redis_unavailable(what: str, exc: BaseException) -> StateUnavailable:
    """The error a request gets when Redis does not answer (no fallback to local state)."""
    return StateUnavailable(
        f"Redis ([state] redis_url) did not answer, so {what} cannot be checked "
        f"({type(exc).__name__}); the request was not run: retry once Redis is back"
    )
