"""Locks in Redis for the order process: expiry, renewal and fencing (a `LockProvider`).

    locks = RedisLocks(client, prefix="crossdock:", ttl_s=15, wait_s=30)
    async with locks.hold(["stock:SKU-1", "stock:SKU-2"]) as lease:
        ...
        lease.check()          # LockLost once the lease expired or is someone else's

All names of one `hold` are taken together by one Lua script (all or none), so two holders of
overlapping sets cannot deadlock. Each grant gets a fencing token from one counter that only
grows (`INCR`), and each key holds `<holder>:<token>`; renewal and release touch a key only
while it still holds that value. While held, a background task renews the keys every third
of the TTL; a holder that dies (SIGKILL, lost network) stops renewing and its keys expire
after `ttl_s`, so another replica can take over. `check()` needs no round trip: the lease is
valid until the last renewal Redis confirmed plus the TTL, measured from before it was sent.
A lock not had within `wait_s` raises LockBusy (retryable); Redis unreachable raises
StateUnavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from resolvers.saga.locks import DEFAULT_TTL_S, Lease, LockLost

from .errors import LockBusy
from .redis_buckets import redis_unavailable

# KEYS: the locks, then the fencing counter; ARGV: holder, ttl in ms. Returns the token or 0.
ACQUIRE = """
local n = #KEYS - 1
for i = 1, n do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 0 end
end
local token = redis.call('INCR', KEYS[#KEYS])
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
end
return token
"""
# KEYS: the locks; ARGV: value, ttl in ms (0: release). Returns how many still held it.
RENEW = """
local held = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    held = held + 1
    if tonumber(ARGV[2]) > 0 then
      redis.call('PEXPIRE', key, ARGV[2])
    else
      redis.call('DEL', key)
    end
  end
end
return held
"""


class RedisLease:
    """A lease on some lock names: its fencing token, and whether it still protects them."""

    def __init__(self, names: tuple[str, ...], token: int, ttl_s: float, since: float) -> None:
        self.names = names
        self.fencing_token = token
        self.value = ""
        self.valid_until = since + ttl_s
        self.lost = False

    def check(self) -> None:
        if self.lost or time.monotonic() >= self.valid_until:
            raise LockLost(
                f"the lock on {', '.join(self.names)} expired or was taken over (fencing token "
                f"{self.fencing_token}); the step was not run and the process will be resumed"
            )


class RedisLocks:
    """A LockProvider over one Redis: what every worker and replica of a gateway shares."""

    def __init__(self, client: Redis, *, prefix: str, ttl_s: float, wait_s: float) -> None:
        self._client = client
        self._prefix = prefix + "lock:"
        self._fence = prefix + "fence"
        self._ttl_s = ttl_s
        self._wait_s = wait_s
        self._holder = uuid.uuid4().hex
        self._acquire = client.register_script(ACQUIRE)
        self._renew = client.register_script(RENEW)

    @asynccontextmanager
    async def hold(
        self, names: Iterable[str], *, ttl_s: float = DEFAULT_TTL_S
    ) -> AsyncIterator[Lease]:
        """Hold every name until the block ends. `ttl_s` is the process's own bound; the
        expiry in Redis is `[state] lock_ttl_s`, renewed while the holder lives."""
        ordered = tuple(sorted(set(names)))
        keys = [self._prefix + name for name in ordered]
        lease = await self._take(ordered, keys)
        renewer = asyncio.create_task(self._keep(lease, keys), name="lock-renewal")
        try:
            yield lease
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            await self._release(lease, keys)

    async def _take(self, names: tuple[str, ...], keys: list[str]) -> RedisLease:
        deadline = time.monotonic() + self._wait_s
        pause = 0.005
        ttl_ms = int(self._ttl_s * 1000)
        while True:
            since = time.monotonic()
            token = int(
                await self._call(self._acquire, [*keys, self._fence], [self._holder, ttl_ms])
            )
            if token:
                lease = RedisLease(names, token, self._ttl_s, since)
                lease.value = f"{self._holder}:{token}"
                return lease
            if time.monotonic() + pause > deadline:
                raise LockBusy(
                    f"{', '.join(names)} stayed locked by another request for {self._wait_s:g} s "
                    "([state] lock_wait_s); retry shortly"
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)

    async def _keep(self, lease: RedisLease, keys: list[str]) -> None:
        """Renew every third of the TTL; a refused or failed renewal marks the lease lost."""
        ttl_ms = int(self._ttl_s * 1000)
        while not lease.lost:
            await asyncio.sleep(self._ttl_s / 3)
            since = time.monotonic()
            try:
                held = int(await self._renew(keys=keys, args=[lease.value, ttl_ms]))
            except RedisError:
                continue  # not confirmed: valid_until stays, check() fails once it passes
            if held < len(keys):
                lease.lost = True
            else:
                lease.valid_until = since + self._ttl_s

    async def _release(self, lease: RedisLease, keys: list[str]) -> None:
        with contextlib.suppress(RedisError):  # unreachable: the keys expire by themselves
            await self._renew(keys=keys, args=[lease.value, 0])

    async def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script(keys=keys, args=args)
        except RedisError as exc:
            raise redis_unavailable("the order process's locks", exc) from exc
