"""Start-up recovery runs after the server listens; requests for a process under it wait.

`OrderProcessService.recover` marks the interrupted processes it is about to resume; a
request touching one of them (placeOrder with its key, approveOrder, cancelOrder) waits up to
`wait_s` for that process to be recovered, then gets PROCESS_RECOVERING, a retryable error.
`Resolver` runs recovery in the background and then the resolver pass every `interval_s`.

    resolver = Resolver(service, interval_s=5.0)
    resolver.start()          # after the server listens; /readyz says "recovering" until done
    ...
    await resolver.stop()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

from resolvers.background import Background
from resolvers.errors import CrossdockError

log = logging.getLogger("crossdock.saga")


class ProcessRecovering(CrossdockError):
    """The process is being recovered after a restart; the request may be retried shortly."""

    code = "PROCESS_RECOVERING"


class RecoveryGate:
    """Which processes start-up recovery has yet to finish, and waiting for one of them."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        self.active = False
        self._pending: dict[str, asyncio.Event] = {}

    def begin(self, process_ids: Iterable[str]) -> None:
        self.active = True
        self._pending = {pid: asyncio.Event() for pid in process_ids}

    def done(self, process_id: str) -> None:
        event = self._pending.pop(process_id, None)
        if event is not None:
            event.set()

    def end(self) -> None:
        for pid in list(self._pending):
            self.done(pid)
        self.active = False

    async def wait_for(self, process_id: str) -> None:
        """Return once `process_id` is not (or no longer) under recovery; bounded."""
        event = self._pending.get(process_id)
        if event is None:
            return
        try:
            async with asyncio.timeout(self.wait_s):
                await event.wait()
        except TimeoutError:
            raise ProcessRecovering(
                f"order process {process_id} is being recovered after a restart; "
                "retry in a few seconds"
            ) from None


class _Recoverable(Protocol):
    async def recover(self) -> object: ...

    async def reconcile(self) -> object: ...


class Resolver:
    """Recovery once, then the resolver pass every `interval_s`, in a background task."""

    def __init__(self, service: _Recoverable, *, interval_s: float) -> None:
        self._service = service
        self._interval_s = interval_s
        self._background = Background("order-process-resolver", self._run)
        self.recovered = asyncio.Event()
        self.passes = 0  # resolver passes completed after recovery
        self._passed = asyncio.Event()

    @property
    def recovering(self) -> bool:
        """True until start-up recovery has finished (what /readyz reports)."""
        return not self.recovered.is_set()

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        await self._guarded(self._service.recover, "start-up recovery")
        self.recovered.set()
        while self._interval_s > 0:
            await asyncio.sleep(self._interval_s)
            await self._guarded(self._service.reconcile, "resolver pass")
            self.passes += 1
            self._passed.set()
            self._passed = asyncio.Event()

    async def next_pass(self) -> None:
        """Wait until the pass after the one under way (if any) has completed."""
        target = self.passes + 2 if self._background.running else self.passes + 1
        while self.passes < target:
            await self._passed.wait()

    async def _guarded(self, run: Callable[[], Awaitable[object]], what: str) -> None:
        try:
            await run()
        except Exception:  # the loop must outlive one bad pass; the next one tries again
            log.exception("order process %s failed; it runs again later", what)
