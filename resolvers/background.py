"""One named background task of a long-lived service (the order-process resolver, the sync
processor, the reconciliation schedule): started once, cancelled and awaited on stop.

    self._background = Background("crossdock-sync-processor", self._loop)
    self._background.start()          # idempotent
    await self._background.stop()     # cancels, waits for it to end
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any


class Background:
    def __init__(self, name: str, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.name = name
        self._run = run
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
