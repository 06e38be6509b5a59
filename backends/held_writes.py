"""A late write: hold a matching request N ms, then commit and answer it, whatever the client did.

What a proxy queue or a slow backend does to a write: the client gives up (read timeout,
hang-up) and the write is applied anyway, later. Selected by method, a path pattern (a regular
expression searched in the decoded path) and a count of matching requests:

    late = emulator.controls.hold("PUT", r"^/api/resource/Sales Order/", hold_ms=300)
    ...                      # the client times out and moves on
    await late.landed(1)     # the held request has now been committed by the emulated system
    late.release()           # or: end the hold early (a backend that hangs until told)

The commit runs in a task of its own, not the request's: a client that times out or hangs up
cannot cancel it. The reply is sent afterwards if the client is still there. Over HTTP, when the
admin endpoint is on: `POST /_emulator/held {"method": "PUT", "path": "...", "hold_ms": 300,
"skip": 0, "count": 1}` adds one, `GET /_emulator/held` lists them with their counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_HOLD_MS = 60_000
# Commits still running after their request gave up; held here so they are not collected.
_COMMITS: set[asyncio.Task[list[Message]]] = set()


@dataclass
class HeldWrite:
    """Hold the matching requests after the first `skip`, `count` of them, `hold_ms` each."""

    method: str
    path: re.Pattern[str]
    hold_ms: float
    skip: int = 0
    count: int = 1
    seen: int = 0  # matching requests so far
    held: int = 0  # requests this knob has held
    committed: int = 0  # held requests the emulated system has finished (it answered them)
    _changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _released: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @classmethod
    def build(
        cls, method: str, path: str, hold_ms: float, *, skip: int = 0, count: int = 1
    ) -> HeldWrite:
        """A validated knob; ValueError naming what is wrong."""
        if not isinstance(hold_ms, int | float) or isinstance(hold_ms, bool):
            raise ValueError(f"hold_ms must be a number in [0, {MAX_HOLD_MS}]")
        if not 0 <= hold_ms <= MAX_HOLD_MS:
            raise ValueError(f"hold_ms must be a number in [0, {MAX_HOLD_MS}]")
        for name, value, low in (("skip", skip, 0), ("count", count, 1)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}")
        try:
            pattern = re.compile(path)
        except (re.error, TypeError) as exc:
            raise ValueError(f"path must be a regular expression ({exc})") from None
        return cls(str(method).upper(), pattern, float(hold_ms), skip, count)

    def takes(self, method: str, path: str) -> bool:
        """Whether this request is one to hold (counts it as seen when it matches)."""
        if method != self.method or not self.path.search(path):
            return False
        self.seen += 1
        if self.seen <= self.skip or self.held >= self.count:
            return False
        self.held += 1
        return True

    def release(self) -> None:
        """End the hold now: held requests (and later ones this knob takes) commit at once."""
        self._released.set()

    async def landed(self, count: int = 1, *, timeout_s: float = 10.0) -> None:
        """Wait until `count` held requests have been committed (TimeoutError after timeout_s)."""
        async with asyncio.timeout(timeout_s):
            while self.committed < count:
                self._changed.clear()
                await self._changed.wait()

    def describe(self) -> dict[str, Any]:
        return {
            "method": self.method, "path": self.path.pattern, "hold_ms": self.hold_ms,
            "skip": self.skip, "count": self.count, "seen": self.seen, "held": self.held,
            "committed": self.committed,
        }  # fmt: skip

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the request, commit it after the hold in a detached task, relay its answer."""
        body = await _read_body(receive)
        if body is None:
            return  # the client left before sending the whole request: nothing to commit
        task = asyncio.create_task(self._commit(app, scope, body))
        _COMMITS.add(task)
        task.add_done_callback(_COMMITS.discard)
        for message in await asyncio.shield(task):
            await send(message)

    async def _commit(self, app: ASGIApp, scope: Scope, body: bytes) -> list[Message]:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), self.hold_ms / 1000)
        sent: list[Message] = []
        delivered = asyncio.Event()

        async def replay() -> Message:
            if not delivered.is_set():
                delivered.set()
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the app sees a client that is still connected
            raise AssertionError("unreachable")

        async def capture(message: Message) -> None:
            sent.append(message)

        try:
            await app(scope, replay, capture)
        finally:
            self.committed += 1
            self._changed.set()
        return sent


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
