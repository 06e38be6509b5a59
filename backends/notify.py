"""Outgoing notifications of the emulations (Zoho watch callbacks, Frappe webhooks) and their knobs.

A real system's notifications get lost, arrive late, twice or out of order; an emulation can
be told to do the same. Every fault is drawn from a seeded PRNG at submission time, so the
same writes with the same seed meet the same faults on every run:

    outbox = Outbox()
    outbox.knobs.update({"drop_rate": 0.3, "duplicate_rate": 0.2, "seed": 7})
    outbox.submit(send)          # returns at once: a background worker calls `await send()`
    await outbox.drain()         # (tests) until everything submitted so far was handled

One worker sends the notifications one after another, in submission order (as a Frappe site
with one background worker does), so an API response never waits for a notification. The
knobs (`NotifyKnobs`), also settable over `POST /_emulator/notifications` when the admin
endpoint is on (`GET` shows them with the counters):

    drop_rate       share of notifications never sent
    duplicate_rate  share sent twice in a row
    reorder_rate    share held back until the next one has been sent (or `hold_ms` passed)
    delay_ms        wait before sending each one
    seed            seeds the PRNG (setting it restarts the sequence)
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

logger = logging.getLogger("crossdock.emulation.notify")

Job = Callable[[], Awaitable[None]]

# knob -> (accepted types, low, high)
_KNOBS: dict[str, tuple[type | tuple[type, ...], float | None, float]] = {
    "drop_rate": ((int, float), 0, 1),
    "duplicate_rate": ((int, float), 0, 1),
    "reorder_rate": ((int, float), 0, 1),
    "delay_ms": ((int, float), 0, 60_000),
    "hold_ms": ((int, float), 0, 60_000),
    "seed": (int, None, 0),
}


@dataclass
class NotifyKnobs:
    """Notification faults; rates are shares in [0, 1] drawn from a seeded PRNG."""

    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0
    delay_ms: float = 0.0
    hold_ms: float = 500.0
    seed: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def update(self, values: dict[str, Any]) -> None:
        """Set knobs; ValueError naming the knob when one is unknown or out of range."""
        unknown = set(values) - set(_KNOBS)
        if unknown:
            raise ValueError(
                f"unknown notification knob(s) {sorted(unknown)}; known: {sorted(_KNOBS)}"
            )
        for name, value in values.items():
            kinds, low, high = _KNOBS[name]
            valid = isinstance(value, kinds) and not isinstance(value, bool)
            if not valid or (low is not None and not low <= value <= high):
                raise ValueError(f"notification knob {name} must be {_describe(kinds, low, high)}")
        for name, value in values.items():
            setattr(self, name, value)
        if "seed" in values:
            self._rng.seed(self.seed)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    def hit(self, rate: float) -> bool:
        """One draw: True with probability `rate` (no draw at all when the rate is 0)."""
        return rate > 0 and self._rng.random() < rate


def _describe(kinds: type | tuple[type, ...], low: float | None, high: float) -> str:
    kind = "an integer" if kinds is int else "a number"
    return kind if low is None else f"{kind} in [{low}, {high}]"


@dataclass
class _Entry:
    job: Job
    copies: int


class Outbox:
    """The background sender of one emulated system's notifications (see the module doc)."""

    def __init__(self, knobs: NotifyKnobs | None = None) -> None:
        self.knobs = knobs or NotifyKnobs()
        self.counts: Counter[str] = Counter()
        self._queue: asyncio.Queue[_Entry] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._held: _Entry | None = None
        self._hold_timer: asyncio.TimerHandle | None = None

    def submit(self, job: Job) -> None:
        """Queue a notification, applying the drop, duplicate and reorder knobs. Call it
        from the event loop (a request handler); it never waits."""
        self.counts["submitted"] += 1
        if self.knobs.hit(self.knobs.drop_rate):
            self.counts["dropped"] += 1
            return
        copies = 1
        if self.knobs.hit(self.knobs.duplicate_rate):
            copies = 2
            self.counts["duplicated"] += 1
        entry = _Entry(job, copies)
        queue = self._ensure_worker()
        if self._held is not None:
            queue.put_nowait(entry)  # the held one goes after this one: out of order
            self._release_held()
        elif self.knobs.hit(self.knobs.reorder_rate):
            self.counts["reordered"] += 1
            self._held = entry
            loop = asyncio.get_running_loop()
            self._hold_timer = loop.call_later(self.knobs.hold_ms / 1000, self._release_held)
        else:
            queue.put_nowait(entry)

    async def drain(self) -> None:
        """Release a held notification and wait until every queued one was handled."""
        self._release_held()
        if self._queue is not None and self._loop is asyncio.get_running_loop():
            await self._queue.join()

    def snapshot(self) -> dict[str, Any]:
        pending = 0 if self._queue is None else self._queue.qsize()
        return {**self.knobs.as_dict(), "counts": dict(self.counts), "pending": pending}

    async def aclose(self) -> None:
        if self._hold_timer is not None:
            self._hold_timer.cancel()
        if self._worker is not None and self._loop is asyncio.get_running_loop():
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        self._worker = None

    def _release_held(self) -> None:
        if self._hold_timer is not None:
            self._hold_timer.cancel()
            self._hold_timer = None
        held, self._held = self._held, None
        if held is not None:
            self._ensure_worker().put_nowait(held)

    def _ensure_worker(self) -> asyncio.Queue[_Entry]:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop or self._worker is None:
            self._loop, self._queue = loop, asyncio.Queue()
            self._worker = loop.create_task(self._work(self._queue))
        return self._queue

    async def _work(self, queue: asyncio.Queue[_Entry]) -> None:
        while True:
            entry = await queue.get()
            try:
                if self.knobs.delay_ms > 0:
                    await asyncio.sleep(self.knobs.delay_ms / 1000)
                for _ in range(entry.copies):
                    await self._run(entry.job)
            finally:
                queue.task_done()

    async def _run(self, job: Job) -> None:
        try:
            await job()
            self.counts["sent"] += 1
        except Exception:  # a failing receiver must not stop the worker
            self.counts["failed"] += 1
            logger.warning("an emulated notification could not be delivered", exc_info=True)


def admin_route(path: str, outbox: Outbox) -> Route:
    """`GET`/`POST {path}`: the outbox's knobs and counters (for ControlMiddleware's admin)."""

    async def endpoint(request: Request) -> Response:
        if request.method == "POST":
            try:
                body = await request.json()
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object of knobs")
                outbox.knobs.update(body)
            except (ValueError, RecursionError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(outbox.snapshot())

    return Route(path, endpoint, methods=["GET", "POST"])
