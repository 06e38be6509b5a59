"""Reconciliation as the gateway and the CLI use it: runs that are stored as they stream,
the last run's counts, its findings in pages, repairs, and a schedule.

    service = ReconcileService(reconciler, store, repairer)
    record = await service.run(trigger="cli")            # findings stored 200 at a time
    page = service.findings(record.id, offset=0, limit=20)
    Schedule(service, every_s=3600).start()              # `[reconcile] every = "1h"`
    Schedule(service, every_s=3600, turns=turns).start() # one run per interval, all replicas

Only one run at a time per service: a scheduled run that finds one under way skips its turn.
With `turns` (resolvers.state.pg_reconcile.PostgresTurns, `[state] postgres_url`), the
schedule of every worker and replica asks whose turn it is, and only the one that has it
runs; it renews its turn while it runs and stops the run if the turn was taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Protocol

from resolvers.background import Background
from resolvers.errors import CrossdockError

from .engine import Progress, Reconciler
from .findings import Category, Finding, Severity
from .repairs import Repairer, RepairOutcome
from .rules import CATEGORIES, RULES_BY_NAME, select
from .store import RunRecord, RunStore

log = logging.getLogger("crossdock.reconcile")
_BATCH = 200

OnFinding = Callable[[Finding], None]


class RunInProgress(RuntimeError):
    """Another run of this service is under way."""


class ReconcileService:
    """Runs (stored), findings, repairs: what `reconciliation` and `repairFinding` call."""

    def __init__(
        self, reconciler: Reconciler, store: RunStore, repairer: Repairer | None = None
    ) -> None:
        self.reconciler = reconciler
        self.store = store
        self.repairer = repairer or Repairer(reconciler, store=store)
        self._running = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._running.locked()

    async def run(
        self,
        categories: Collection[Category | str] | None = None,
        *,
        trigger: str,
        progress: Progress | None = None,
        on_finding: OnFinding | None = None,
        slot: datetime | None = None,
    ) -> RunRecord:
        """One full run, its findings stored as they come; the stored run (`slot`: the time a
        shared schedule ran it for)."""
        if self._running.locked():
            raise RunInProgress("a reconciliation run is already under way")
        async with self._running:
            chosen = select(categories).names
            names = [name for name in CATEGORIES if name in chosen]
            run_id = self.store.begin_run(names, trigger, self.reconciler.clock(), slot=slot)
            pending: list[Finding] = []
            seq = 0
            async for finding in self.reconciler.run(names, progress=progress):
                if on_finding is not None:
                    on_finding(finding)
                pending.append(finding)
                if len(pending) >= _BATCH:
                    seq = self.store.add_findings(run_id, seq, pending)
                    pending.clear()
            self.store.add_findings(run_id, seq, pending)
            report = self.reconciler.report
            if report is not None:
                self.store.finish_run(run_id, report)
        record = self.store.run(run_id)
        if record is None or record.finished_at is None:
            raise RuntimeError(f"reconciliation run {run_id} was not stored")
        return record

    def last_run(self) -> RunRecord | None:
        return self.store.last_run()

    def findings(
        self,
        run_id: int,
        *,
        categories: Collection[Category | str] = (),
        severity: Severity = Severity.INFO,
        offset: int = 0,
        limit: int = 50,
    ) -> list[Finding]:
        """A stored run's findings of these categories or groups (all when empty)."""
        rules = _rule_ids(categories)
        return self.store.findings(
            run_id, rules=rules, severity=severity, offset=offset, limit=limit
        )

    def count(
        self,
        run_id: int,
        *,
        categories: Collection[Category | str] = (),
        severity: Severity = Severity.INFO,
    ) -> int:
        rules = _rule_ids(categories)
        return self.store.count_findings(run_id, rules=rules, severity=severity)

    async def repair(self, finding_id: str, *, dry_run: bool, actor: str) -> RepairOutcome:
        return await self.repairer.repair(finding_id, dry_run=dry_run, actor=actor)


def _rule_ids(categories: Collection[Category | str]) -> list[str]:
    """The rule ids of these categories or groups; none (no filter) for everything."""
    chosen = select(categories)
    if chosen.everything:
        return []
    return sorted(RULES_BY_NAME[name].id for name in chosen.names)


class Turn(Protocol):
    @property
    def slot(self) -> datetime:
        """When the run this turn is for was due."""
        ...

    @property
    def fence(self) -> int:
        """Grows with every turn granted: a stale holder's writes match nothing."""
        ...


class Turns(Protocol):
    """Whose turn it is to run the schedule, among every worker and replica."""

    lease_s: float

    async def take(self) -> Turn | float:
        """This worker's turn, or the seconds to wait before asking again."""
        ...

    async def renew(self, turn: Turn) -> bool:
        """Keep the turn; False once another worker took it over."""
        ...

    async def finish(self, turn: Turn) -> None: ...

    async def give_back(self, turn: Turn) -> None:
        """Stopping mid-run: the turn is still due, for another worker."""
        ...


class Schedule:
    """A run every `every_s` seconds in a background task (the first one `every_s` after
    start); a failed run is logged and the next one comes on time. With `turns`, only the
    worker whose turn it is runs (one run per interval across every replica)."""

    def __init__(
        self, service: ReconcileService, *, every_s: float, turns: Turns | None = None
    ) -> None:
        self.service = service
        self.every_s = every_s
        self.turns = turns
        self.runs = 0
        loop = self._loop if turns is None else self._shared_loop
        self._background = Background("reconciliation-schedule", loop)
        self._ran = asyncio.Event()

    def start(self) -> None:
        if self.every_s > 0:
            self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            await self.run_once()

    async def _shared_loop(self) -> None:
        assert self.turns is not None
        while True:
            since = time.monotonic()  # the lease runs from before it was asked for
            try:
                got = await self.turns.take()
            except CrossdockError as exc:  # PostgreSQL gone: readiness says so; ask again
                log.warning("reconciliation schedule: %s", exc.message)
                got = min(self.every_s, 5.0)
            except Exception:  # the schedule must outlive a bad answer; ask again later
                log.exception("reconciliation schedule: could not ask whose turn it is")
                got = min(self.every_s, 5.0)
            if isinstance(got, float):
                await asyncio.sleep(got)
                continue
            await self._take_turn(self.turns, got, since)

    async def _take_turn(self, turns: Turns, turn: Turn, since: float) -> None:
        """Run while renewing the turn; a turn lost (taken over, or not renewed within its
        lease) stops the run, which stays unfinished in the store."""
        run = asyncio.create_task(self.run_once(slot=turn.slot), name="reconciliation-run")
        try:
            lost = await _keep_turn(turns, turn, run, since + turns.lease_s)
        except asyncio.CancelledError:  # stopping: the turn goes back, still due
            await _cancel(run)
            with contextlib.suppress(CrossdockError):
                await turns.give_back(turn)
            raise
        if lost:
            await _cancel(run)
            log.warning("reconciliation run for %s stopped: %s", turn.slot.isoformat(), lost)
            return
        try:
            await turns.finish(turn)
        except CrossdockError as exc:  # the lease expires; another worker takes the next turn
            log.warning("reconciliation schedule: the turn was not handed on (%s)", exc.message)
        except Exception:  # likewise
            log.exception("reconciliation schedule: the turn was not handed on")

    async def next_run(self) -> None:
        """Wait until the next scheduled run has been stored."""
        await self._ran.wait()

    async def run_once(self, slot: datetime | None = None) -> None:
        started = datetime.now(UTC)
        try:
            record = await self.service.run(trigger="schedule", slot=slot)
        except RunInProgress:
            log.info("reconciliation: a run is under way; the scheduled one skips its turn")
            return
        except Exception:  # the schedule must outlive one bad run; the next one tries again
            log.exception("reconciliation run started %s failed", started.isoformat())
            return
        self.runs += 1
        self._ran.set()
        self._ran = asyncio.Event()
        log.info(
            "reconciliation run %s: %s finding(s) in %.1f s",
            record.id,
            record.count("severity"),
            record.seconds or 0.0,
        )


async def _keep_turn(
    turns: Turns, turn: Turn, run: asyncio.Task[None], valid_until: float
) -> str | None:
    """Renew the turn every third of its lease until `run` ends; why it was lost, if it was."""
    while True:
        await asyncio.wait({run}, timeout=turns.lease_s / 3)
        if run.done():
            return None
        since = time.monotonic()
        try:
            if not await turns.renew(turn):
                return "another worker took the turn over"
            valid_until = since + turns.lease_s
        except Exception:  # not confirmed (PostgreSQL gone): the lease holds until it ends
            if time.monotonic() >= valid_until:
                return "the turn could not be renewed within its lease ([state] lease_s)"


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
