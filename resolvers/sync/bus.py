"""Processed changes out to whoever listens (subscriptions), in process.

The processor publishes each change after its sync rules ran; every subscriber gets every
change published after it subscribed, in order. A slow subscriber does not hold up the
others or the processor: its queue is bounded, and when it overflows the subscriber is told
(`Overflow`) and dropped, so it can resubscribe and re-read what it needs.

This bus is one process's. With shared state (`[state] redis_url`), the state layer hands out
a `RedisChangeBus` (resolvers.sync.redis_bus) instead: the same interface, and changes also
reach the subscribers of every other worker and replica over a Redis Stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .change import Change


class Overflow(Exception):
    """The subscriber fell more than its queue's size behind and was dropped."""


_CLOSED = object()


class ChangeBus:
    def __init__(self, *, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._queues: set[asyncio.Queue[object]] = set()

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def publish(self, change: Change) -> None:
        for queue in list(self._queues):
            if queue.qsize() >= self._queue_size:  # the last slot is kept for the end marker
                self._queues.discard(queue)
                _replace_with(queue, Overflow())
            else:
                queue.put_nowait(change)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Change]]:
        """`async with bus.subscribe() as changes: async for change in changes: ...`"""
        queue: asyncio.Queue[object] = asyncio.Queue(self._queue_size + 1)
        self._queues.add(queue)
        try:
            yield _drain(queue)
        finally:
            self._queues.discard(queue)

    async def start(self) -> None:
        """Nothing to start in process (RedisChangeBus starts its Redis tasks here)."""

    async def aclose(self) -> None:
        """Shutdown: end every subscription."""
        self.close()

    def close(self) -> None:
        """End every subscription (shutdown): their iterators stop after what is queued."""
        for queue in list(self._queues):
            self._queues.discard(queue)
            queue.put_nowait(_CLOSED)


def _replace_with(queue: asyncio.Queue[object], last: object) -> None:
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(last)


async def _drain(queue: asyncio.Queue[object]) -> AsyncIterator[Change]:
    while True:
        item = await queue.get()
        if item is _CLOSED:
            return
        if isinstance(item, Overflow):
            raise item
        assert isinstance(item, Change)
        yield item
