"""Circuit breakers whose openings every process sees, through Redis (`[state] share_breakers`).

    sync = BreakerSync(client, prefix="crossdock:", breakers={"crm": crm_breaker, ...})
    await sync.start()          # a background task: publish this process's openings, poll others'
    await sync.aclose()

Each process keeps its own breakers (resolvers.breaker), which decide from its own calls as
before. What is shared is the opening: when a breaker opens because of this process's
failures, the task writes `<prefix>breaker:<system>` with a fresh id as value and the
cool-down as expiry (`PX`); every `poll_s` each process reads the keys (one pipelined round
trip) and opens its own breaker for what is left of a key's expiry, once per id. So a backend
that five failures showed to be down in one process is failed fast by all of them within
about `poll_s`, instead of each process spending its own five failures on it. When the
cool-down ends, each process lets its own probe through (at most one per process and
backend); a probe that fails opens and publishes again.

Redis gone: the breakers go on deciding per process (they are protection, not correctness);
the loss is logged once, and readiness already fails for the state layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping

from redis.asyncio import Redis
from redis.exceptions import RedisError

from resolvers.background import Background
from resolvers.breaker import CircuitBreaker

log = logging.getLogger("crossdock.state")


class BreakerSync:
    """Shares the openings of these breakers (by backend name) with every other process."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str,
        breakers: Mapping[str, CircuitBreaker],
        poll_s: float = 0.5,
    ) -> None:
        self._client = client
        self._keys = {system: f"{prefix}breaker:{system}" for system in breakers}
        self._breakers = dict(breakers)
        self._poll_s = poll_s
        self._pending: dict[str, float] = {}  # openings of ours not yet written
        self._seen: dict[str, bytes] = {}  # per backend, the last opening applied or written
        self._wake = asyncio.Event()
        self._healthy = True
        self._background = Background("breaker-sync", self._loop)
        for system, breaker in self._breakers.items():
            breaker.on_open = self._opener(system)

    def _opener(self, system: str) -> Callable[[float], None]:
        def opened(cooldown_s: float) -> None:
            self._pending[system] = cooldown_s
            self._wake.set()

        return opened

    async def start(self) -> None:
        self._background.start()

    async def aclose(self) -> None:
        await self._background.stop()
        for breaker in self._breakers.values():
            breaker.on_open = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.sync_once()
                self._recovered()
            except RedisError as exc:
                self._lost(exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_s):
                    await self._wake.wait()
            self._wake.clear()

    async def sync_once(self) -> None:
        """Write this process's openings, then apply the others'."""
        pending, self._pending = self._pending, {}
        try:
            for system, cooldown_s in pending.items():
                opening = uuid.uuid4().hex.encode()
                await self._client.set(self._keys[system], opening, px=int(cooldown_s * 1000))
                self._seen[system] = opening
        except RedisError:
            self._pending = pending | self._pending  # sent again once Redis answers
            raise
        pipe = self._client.pipeline(transaction=False)
        for key in self._keys.values():
            pipe.get(key)
            pipe.pttl(key)
        answers = await pipe.execute()
        for index, system in enumerate(self._keys):
            opening, pttl = answers[2 * index], answers[2 * index + 1]
            if opening is None or int(pttl) <= 0 or self._seen.get(system) == opening:
                continue
            self._seen[system] = opening
            self._breakers[system].open_for(int(pttl) / 1000)
            log.warning(
                "%s circuit opened for %.1f s: another gateway process found it failing",
                system,
                int(pttl) / 1000,
            )

    def _lost(self, exc: RedisError) -> None:
        if self._healthy:
            log.warning(
                "breaker openings are not shared while Redis ([state] redis_url) does not "
                "answer (%s); each process decides from its own calls meanwhile",
                type(exc).__name__,
            )
        self._healthy = False

    def _recovered(self) -> None:
        if not self._healthy:
            log.warning("breaker openings are shared through Redis again")
        self._healthy = True
