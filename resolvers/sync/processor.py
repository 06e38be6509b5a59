"""The processor: claim changes from the inbox, apply the sync rules, publish what changed.

For each claimed change, of one key at a time and in version order (the inbox's promise):

1. a version older than the one applied is done at once (a late, reordered change);
2. the record is read from its system now (the change is a hint) and its version learnt;
3. a version that is the one a sync rule wrote is that write coming back: no rule runs;
4. otherwise every enabled rule for the entity runs; each reads its target and writes only
   what differs, and its writes are remembered (version and fingerprint) to know their echo;
5. the version is marked applied, the change is done with a note, and published on the bus
   (a version already applied is published only when a rule wrote something: a second edit
   within the version's resolution, not a repeated hint).

A rule that raises fails the change: it is retried with backoff, then parked dead with the
error's message (`crossdock sync status`, `syncStatus`). A crash anywhere leaves the change
claimed; after its lease another run applies it again, and the rules, reading first, do
not write twice.

    processor = Processor(inbox, build_rules(settings), RuleContext(crm, scm, service), bus=bus)
    await processor.drain()        # until nothing is claimable (tests, `crossdock sync`)
    processor.start()              # in the background, woken by `wake()` after a put
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode, Tracer

from resolvers.background import Background
from resolvers.errors import CrossdockError

from .bus import ChangeBus
from .change import Change
from .inbox import Inbox, InboxItem, WriteMark, key_text
from .reader import read_current
from .rules.base import Applied, Key, Rule, RuleContext, Snapshot

log = logging.getLogger("crossdock.sync")
SPAN = "crossdock.sync.change"

# Called as hook(stage, change) at "read" and "applied"; tests raise from it to crash.
Hook = Callable[[str, Change], None]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What processing one change came to: a note for the inbox, what to publish."""

    note: str
    publish: Change | None = None
    applied: tuple[Applied, ...] = field(default=())


class Processor:
    def __init__(
        self,
        inbox: Inbox,
        rules: Sequence[Rule],
        ctx: RuleContext,
        *,
        bus: ChangeBus | None = None,
        owner: str | None = None,
        batch: int = 20,
        idle_s: float = 5.0,
        hook: Hook | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.inbox = inbox
        self.rules = tuple(rules)
        self.ctx = dataclasses.replace(ctx, recall=self._recall)
        self.bus = bus
        self.owner = owner or f"processor-{uuid.uuid4().hex[:12]}"
        self.batch = batch
        self.idle_s = idle_s
        self._hook = hook or (lambda stage, change: None)
        # A span per change (the gateway's tracer when [tracing] is on): the rules' backend
        # calls are its children and carry its traceparent, and the JSON log lines written
        # while it runs carry its trace id, so one change can be followed into both systems.
        self.tracer = tracer or trace.NoOpTracer()
        self._wake = asyncio.Event()
        self._background = Background("crossdock-sync-processor", self._loop)

    async def run_once(self) -> int:
        """Claim one batch (distinct keys) and process it; returns how many were claimed."""
        items = await self.inbox.claim(self.owner, limit=self.batch)
        await asyncio.gather(*(self._process(item) for item in items))
        return len(items)

    async def drain(self, *, max_batches: int = 1000) -> int:
        """Process until nothing is claimable now; returns how many changes were claimed."""
        total = 0
        for _ in range(max_batches):
            claimed = await self.run_once()
            if not claimed:
                break
            total += claimed
        return total

    def wake(self) -> None:
        """Something was put: process it without waiting for the idle interval."""
        self._wake.set()

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _loop(self) -> None:
        while True:
            self._wake.clear()  # before draining: a put meanwhile wakes the next round
            try:
                await self.drain()
            except Exception:  # the inbox itself failed (disk): log, wait, try again
                log.exception("sync: the processor could not read the inbox")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.idle_s)

    async def _process(self, item: InboxItem) -> None:
        change = item.change
        attributes = {
            "crossdock.sync.system": change.system,
            "crossdock.sync.entity": change.entity,
            "crossdock.sync.origin": change.origin,
            "crossdock.sync.attempt": item.attempts,
        }  # no record ids or values, as for operations
        with self.tracer.start_as_current_span(SPAN, attributes=attributes) as span:
            try:
                outcome = await self._apply(item)
            except Exception as exc:
                reason = _reason(exc)
                span.set_status(Status(StatusCode.ERROR, reason[:200]))
                dead = await self.inbox.failed(item, self.owner, reason)
                level = logging.ERROR if dead else logging.WARNING
                state = "parked as dead" if dead else f"will retry (attempt {item.attempts})"
                log.log(level, "sync: %s failed, %s: %s", key_text(change.key), state, reason)
                return
            span.set_attribute("crossdock.sync.rules", len(outcome.applied))
        await self.inbox.done(item, self.owner, outcome=outcome.note)
        if outcome.publish is not None and self.bus is not None:
            self.bus.publish(outcome.publish)

    async def _apply(self, item: InboxItem) -> Outcome:
        change, key = item.change, key_text(item.change.key)
        applied = None if item.forced else await self.inbox.applied(key)
        if _older(change.version, applied):
            return Outcome(f"version {change.version} is older than the one applied")
        rules = [rule for rule in self.rules if rule.applies(change)]
        current = await read_current(self.ctx.crm, self.ctx.scm, change) if rules else None
        self._hook("read", change)
        version = (current.version if current else None) or change.version
        if _older(version, applied):
            return Outcome(f"version {version} is older than the one applied")
        # The same version again (a repeated hint; or a second edit within the version's
        # resolution, Zoho's being a second): the rules run, and write only what differs.
        # Subscribers hear it only if a rule had something to write (the second edit).
        fresh = version is None or applied is None or version > applied
        published = dataclasses.replace(change, version=version, fields={})
        if current is not None and await self._echo(key, current):
            await self._mark(key, version)
            return Outcome("a sync rule's own write, back: nothing to do", published)
        snapshot = current or Snapshot(None, None)
        results = [await rule.apply(self.ctx, change, snapshot) for rule in rules]
        await self._remember(results)
        self._hook("applied", change)
        await self._mark(key, version)
        fields: dict[str, Any] = {k: v for r in results for k, v in r.fields.items()}
        note = "; ".join(f"{r.rule}: {r.note}" for r in results if r.note) or "no rule applies"
        news = fresh or any(r.writes for r in results)
        publish = dataclasses.replace(published, fields=fields) if news else None
        return Outcome(note, publish, tuple(results))

    async def _echo(self, key: str, current: Snapshot) -> bool:
        mark = await self.inbox.written(key)
        return mark is not None and current.version is not None and mark.version == current.version

    async def _remember(self, results: Sequence[Applied]) -> None:
        for result in results:
            for write in result.writes:
                if write.version is not None:
                    await self.inbox.mark_written(
                        key_text(write.key), write.version, write.fingerprint
                    )

    async def _mark(self, key: str, version: datetime | None) -> None:
        if version is not None:
            await self.inbox.mark_applied(key, version)

    async def _recall(self, key: Key) -> WriteMark | None:
        return await self.inbox.written(key_text(key))


def _older(version: datetime | None, applied: datetime | None) -> bool:
    return version is not None and applied is not None and version < applied


def _reason(exc: Exception) -> str:
    if isinstance(exc, CrossdockError):
        return f"{exc.code}: {exc.message}"
    log.exception("sync: unexpected error in a sync rule")
    return f"{type(exc).__name__}: unexpected error; see the gateway log"
