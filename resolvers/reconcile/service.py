"""Reconciliation as the gateway and the CLI use it: runs that are stored as they stream,
the last run's counts, its findings in pages, repairs, and a schedule.

    service = ReconcileService(reconciler, store, repairer)
    record = await service.run(trigger="cli")            # findings stored 200 at a time
    page = service.findings(record.id, offset=0, limit=20)
    Schedule(service, every_s=3600).start()              # `[reconcile] every = "1h"`

Only one run at a time per service: a scheduled run that finds one under way skips its turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime

from resolvers.background import Background

from .engine import Progress, Reconciler
from .findings import Category, Finding, Severity
from .repairs import Repairer, RepairOutcome
from .rules import CATEGORIES, RULES_BY_NAME, select
from .store import ReconcileStore, RunRecord

log = logging.getLogger("crossdock.reconcile")
_BATCH = 200

OnFinding = Callable[[Finding], None]


class RunInProgress(RuntimeError):
    """Another run of this service is under way."""


class ReconcileService:
    """Runs (stored), findings, repairs: what `reconciliation` and `repairFinding` call."""

    def __init__(
        self, reconciler: Reconciler, store: ReconcileStore, repairer: Repairer | None = None
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
    ) -> RunRecord:
        """One full run, its findings stored as they come; the stored run."""
        if self._running.locked():
            raise RunInProgress("a reconciliation run is already under way")
        async with self._running:
            chosen = select(categories).names
            names = [name for name in CATEGORIES if name in chosen]
            run_id = self.store.begin_run(names, trigger, self.reconciler.clock())
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
        record = self.store.last_run()
        if record is None or record.id != run_id:
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


class Schedule:
    """A run every `every_s` seconds in a background task (the first one `every_s` after
    start); a failed run is logged and the next one comes on time."""

    def __init__(self, service: ReconcileService, *, every_s: float) -> None:
        self.service = service
        self.every_s = every_s
        self.runs = 0
        self._background = Background("reconciliation-schedule", self._loop)
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

    async def next_run(self) -> None:
        """Wait until the next scheduled run has been stored."""
        await self._ran.wait()

    async def run_once(self) -> None:
        started = datetime.now(UTC)
        try:
            record = await self.service.run(trigger="schedule")
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
