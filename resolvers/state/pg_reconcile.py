"""Reconciliation's runs, findings and repair journal in PostgreSQL, and its shared schedule.

    store = PostgresReconcileStore(pool, sealer)       # a RunStore, like the SQLite one
    turns = PostgresTurns(pool, every_s=3600, lease_s=30)
    Schedule(service, every_s=3600, turns=turns)       # one run per interval, all replicas

With `[state] postgres_url` set, every worker of every replica reads and writes the same
runs (migration 3: `reconcile_runs`, `reconcile_findings`, `reconcile_repairs`), so
`reconciliationFindings` shows the last run whichever replica made it, and a repair through
any replica is journaled in one place. Payloads are sealed with the order journal's key as in
the SQLite store; only routing data is in clear.

The schedule is one row (`reconcile_schedule`): when the next run is due (`next_due`), who
runs it (`owner`) until when (`lease_until`), and a fencing counter (`fence`) that grows with
every grant. A worker takes the turn only when it is due and no live owner holds it, in one
transaction (`SELECT … FOR UPDATE`), so exactly one worker runs each interval. The owner
renews its lease every third of `lease_s`; when it ends, `next_due` moves on by whole
intervals from the slot it ran (a run longer than the interval skips the slots it overran,
it does not queue them). A worker that dies mid-run stops renewing: once `lease_s` has passed,
the next worker takes the same slot over, and the dead worker's run stays unfinished (never
shown as the last run). A finish or renewal by a worker whose turn was taken over matches no
row (the fence moved on) and changes nothing.

Calls are short statements on the state layer's pool (psycopg 3, sync, as the order journal;
the schedule's run them off the event loop). An unreachable database is StateUnavailable.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from resolvers.reconcile.engine import RunReport
from resolvers.reconcile.findings import Finding, Severity
from resolvers.reconcile.service import Turn as ScheduleTurn
from resolvers.reconcile.store import (
    RepairRecord,
    RunRecord,
    counts_of,
    decode_finding,
    encode_finding,
)
from resolvers.saga.sealing import Sealer

from .pg_journal import postgres_unavailable, replica_id

log = logging.getLogger("crossdock.reconcile")
T = TypeVar("T")
Conn = psycopg.Connection[tuple[Any, ...]]
_WHAT = "reconciliation's runs and findings"
_RUN_COLUMNS = "id, trigger, categories, started_at, finished_at, seconds, counts"


class _Pooled:
    """One short statement (or transaction) on a pooled connection; StateUnavailable when
    PostgreSQL does not answer."""

    def __init__(self, pool: ConnectionPool[Conn]) -> None:
        self._pool = pool

    def _run(self, work: Callable[[Conn], T]) -> T:
        try:
            with self._pool.connection() as conn:
                return work(conn)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise postgres_unavailable(exc, _WHAT) from exc

    def _one(self, query: str, params: Mapping[str, Any] | tuple[Any, ...]) -> Any:
        return self._run(lambda conn: conn.execute(query.encode(), params).fetchone())

    def _all(self, query: str, params: Mapping[str, Any] | tuple[Any, ...]) -> list[Any]:
        return self._run(lambda conn: conn.execute(query.encode(), params).fetchall())


class PostgresReconcileStore(_Pooled):
    """Runs, findings and the repair journal of every replica (a RunStore)."""

    def __init__(
        self, pool: ConnectionPool[Conn], sealer: Sealer | None = None, *, keep_runs: int = 5
    ) -> None:
        super().__init__(pool)
        self._sealer = sealer
        self._keep = keep_runs
        self.owner = replica_id()
        self.path = "PostgreSQL ([state] postgres_url)"

    def close(self) -> None:
        """The pool belongs to the state layer, which closes it."""

    # runs and findings

    def begin_run(
        self,
        categories: Collection[str],
        trigger: str,
        at: datetime,
        *,
        slot: datetime | None = None,
    ) -> int:
        row = self._one(
            "INSERT INTO reconcile_runs (trigger, categories, started_at, slot, owner)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (trigger, json.dumps(list(categories)), at, slot, self.owner),
        )
        return int(row[0])

    def add_findings(self, run_id: int, start: int, findings: Iterable[Finding]) -> int:
        rows = [
            (
                run_id,
                seq,
                finding.id,
                finding.rule.id,
                finding.rule.category.value,
                finding.rule.severity.rank,
                self._seal(f"finding:{run_id}:{seq}", encode_finding(finding)),
            )
            for seq, finding in enumerate(findings, start)
        ]
        if rows:
            self._run(
                lambda conn: conn.cursor().executemany(
                    "INSERT INTO reconcile_findings VALUES (%s, %s, %s, %s, %s, %s, %s)", rows
                )
            )
        return start + len(rows)

    def finish_run(self, run_id: int, report: RunReport) -> None:
        finished = report.finished_at or report.started_at
        counts = json.dumps(counts_of(report))

        def write(conn: Conn) -> None:
            with conn.transaction():
                conn.execute(
                    "UPDATE reconcile_runs SET finished_at = %s, seconds = %s, counts = %s"
                    " WHERE id = %s",
                    (finished, report.seconds, counts, run_id),
                )
                conn.execute(
                    "DELETE FROM reconcile_findings WHERE run_id NOT IN"
                    " (SELECT id FROM reconcile_runs ORDER BY id DESC LIMIT %s)",
                    (self._keep,),
                )

        self._run(write)

    def last_run(self, *, finished: bool = True) -> RunRecord | None:
        where = "WHERE finished_at IS NOT NULL" if finished else ""
        row = self._one(
            f"SELECT {_RUN_COLUMNS} FROM reconcile_runs {where} ORDER BY id DESC LIMIT 1",  # noqa: S608
            (),
        )
        return _run(row) if row else None

    def run(self, run_id: int) -> RunRecord | None:
        row = self._one(f"SELECT {_RUN_COLUMNS} FROM reconcile_runs WHERE id = %s", (run_id,))  # noqa: S608
        return _run(row) if row else None

    def findings(
        self,
        run_id: int,
        *,
        rules: Collection[str] = (),
        severity: Severity = Severity.INFO,
        offset: int = 0,
        limit: int = 50,
    ) -> list[Finding]:
        where, params = _filter(run_id, rules, severity)
        rows = self._all(
            f"SELECT seq, payload FROM reconcile_findings WHERE {where}"  # noqa: S608
            " ORDER BY seq LIMIT %(limit)s OFFSET %(offset)s",
            {**params, "limit": limit, "offset": offset},
        )
        return [self._finding(run_id, seq, blob) for seq, blob in rows]

    def count_findings(
        self, run_id: int, *, rules: Collection[str] = (), severity: Severity = Severity.INFO
    ) -> int:
        where, params = _filter(run_id, rules, severity)
        row = self._one(f"SELECT count(*) FROM reconcile_findings WHERE {where}", params)  # noqa: S608
        return int(row[0])

    def finding(self, run_id: int, finding_id: str) -> Finding | None:
        row = self._one(
            "SELECT seq, payload FROM reconcile_findings WHERE run_id = %s AND id = %s LIMIT 1",
            (run_id, finding_id),
        )
        return self._finding(run_id, row[0], row[1]) if row else None

    def _finding(self, run_id: int, seq: int, blob: bytes) -> Finding:
        return decode_finding(self._open(f"finding:{run_id}:{seq}", bytes(blob)))

    # the repair journal

    def begin_repair(
        self, *, actor: str, finding_id: str, rule: str, at: datetime, detail: Mapping[str, Any]
    ) -> int:
        row = self._one(
            "INSERT INTO reconcile_repairs (at, actor, finding_id, rule, status)"
            " VALUES (%s, %s, %s, %s, 'applying') RETURNING id",
            (at, actor, finding_id, rule),
        )
        repair_id = int(row[0])
        self._save_repair(repair_id, "applying", None, detail)
        return repair_id

    def finish_repair(
        self, repair_id: int, *, status: str, at: datetime, detail: Mapping[str, Any]
    ) -> None:
        self._save_repair(repair_id, status, at, detail)

    def repairs(self, *, limit: int = 100) -> list[RepairRecord]:
        rows = self._all(
            "SELECT id, at, actor, finding_id, rule, status, finished_at, payload"
            " FROM reconcile_repairs ORDER BY id DESC LIMIT %s",
            (limit,),
        )
        return [
            RepairRecord(
                id=rid,
                at=at,
                actor=actor,
                finding_id=fid,
                rule=rule,
                status=status,
                finished_at=done,
                detail=json.loads(self._open(f"repair:{rid}", bytes(blob))) if blob else {},
            )
            for rid, at, actor, fid, rule, status, done, blob in rows
        ]

    def _save_repair(
        self, repair_id: int, status: str, at: datetime | None, detail: Mapping[str, Any]
    ) -> None:
        blob = self._seal(f"repair:{repair_id}", json.dumps(detail, default=str).encode())
        self._run(
            lambda conn: conn.execute(
                "UPDATE reconcile_repairs SET status = %s, finished_at = %s, payload = %s"
                " WHERE id = %s",
                (status, at, blob, repair_id),
            )
        )

    def _seal(self, record_id: str, plaintext: bytes) -> bytes:
        return self._sealer.seal(record_id, plaintext) if self._sealer else plaintext

    def _open(self, record_id: str, blob: bytes) -> bytes:
        return self._sealer.open(record_id, blob) if self._sealer else blob


def _filter(run_id: int, rules: Collection[str], severity: Severity) -> tuple[str, dict[str, Any]]:
    where = "run_id = %(run)s AND severity >= %(rank)s"
    params: dict[str, Any] = {"run": run_id, "rank": severity.rank}
    if rules:
        where += " AND rule = ANY(%(rules)s)"
        params["rules"] = list(rules)
    return where, params


def _run(row: tuple[Any, ...]) -> RunRecord:
    rid, trigger, categories, started, finished, seconds, counts = row
    return RunRecord(
        int(rid),
        trigger,
        tuple(json.loads(categories)),
        started,
        finished,
        seconds,
        json.loads(counts) if counts else {},
    )


@dataclass(frozen=True, slots=True)
class Turn:
    """This worker's turn to run the schedule: the slot (when it was due) and its fence."""

    slot: datetime
    fence: int


class PostgresTurns(_Pooled):
    """Whose turn it is to run the reconciliation schedule, across every worker and replica
    (see the module docstring). `take` gives a Turn, or how long to wait before asking again."""

    NAME = "reconcile"

    def __init__(self, pool: ConnectionPool[Conn], *, every_s: float, lease_s: float) -> None:
        super().__init__(pool)
        self.every_s = every_s
        self.lease_s = lease_s
        self.owner = replica_id()

    async def take(self) -> ScheduleTurn | float:
        return await asyncio.to_thread(self._run, self._take)

    async def renew(self, turn: ScheduleTurn) -> bool:
        """Extend the lease; False once another worker took the turn over."""
        row = await asyncio.to_thread(
            self._one,
            "UPDATE reconcile_schedule SET lease_until = now() + %s"
            " WHERE name = %s AND owner = %s AND fence = %s RETURNING fence",
            (timedelta(seconds=self.lease_s), self.NAME, self.owner, turn.fence),
        )
        return row is not None

    async def finish(self, turn: ScheduleTurn) -> None:
        """The turn is over: the next one is due whole intervals after its slot."""
        await asyncio.to_thread(
            self._one,
            "UPDATE reconcile_schedule SET owner = NULL, lease_until = NULL, every_s = %(every)s,"
            " next_due = %(slot)s + make_interval(secs => %(every)s * GREATEST(1,"
            " floor(extract(epoch FROM now() - %(slot)s) / %(every)s) + 1))"
            " WHERE name = %(name)s AND owner = %(me)s AND fence = %(fence)s RETURNING fence",
            {
                "every": self.every_s,
                "slot": turn.slot,
                "name": self.NAME,
                "me": self.owner,
                "fence": turn.fence,
            },
        )

    async def give_back(self, turn: ScheduleTurn) -> None:
        """Stopping mid-run (shutdown): free the turn, still due, for another worker now."""
        await asyncio.to_thread(
            self._one,
            "UPDATE reconcile_schedule SET owner = NULL, lease_until = NULL"
            " WHERE name = %s AND owner = %s AND fence = %s RETURNING fence",
            (self.NAME, self.owner, turn.fence),
        )

    def _take(self, conn: Conn) -> Turn | float:
        with conn.transaction():
            conn.execute(
                "INSERT INTO reconcile_schedule (name, every_s, next_due)"
                " VALUES (%s, %s, now() + make_interval(secs => %s)) ON CONFLICT (name) DO NOTHING",
                (self.NAME, self.every_s, self.every_s),
            )
            row = conn.execute(
                "SELECT next_due, owner, lease_until, now() FROM reconcile_schedule"
                " WHERE name = %s FOR UPDATE",
                (self.NAME,),
            ).fetchone()
            assert row is not None  # inserted above
            due, owner, until, now = row
            if due > now:
                return self._wait(due - now)
            if owner is not None and until > now:
                return self._wait(until - now)
            if owner is not None:
                log.warning(
                    "reconciliation schedule: %s stopped renewing its turn (due %s); %s takes it",
                    owner,
                    due.isoformat(),
                    self.owner,
                )
            taken = conn.execute(
                "UPDATE reconcile_schedule SET owner = %s, lease_until = now() + %s,"
                " fence = fence + 1 WHERE name = %s RETURNING fence",
                (self.owner, timedelta(seconds=self.lease_s), self.NAME),
            ).fetchone()
            assert taken is not None
            return Turn(slot=due, fence=int(taken[0]))

    def _wait(self, left: timedelta) -> float:
        """Ask again when it is due (or the owner's lease ends), at least every interval."""
        return float(max(0.05, min(left.total_seconds() + 0.01, self.every_s, self.lease_s)))
