"""Where reconciliation keeps its runs, their findings and its repairs: one SQLite file.

    runs       one row per run: when, what it chose, what it read and found (counts)
    findings   the findings of each run, in the order found (payload sealed)
    repairs    one row per repair: who, when, which finding, the outcome, and every write
               with its before and after values (sealed) — the repair journal and audit trail

Payloads hold customer names and addresses, so with a `Sealer` (the order journal's key)
they are sealed with AES-GCM like the order journal's; only routing data (ids, rule,
severity, times, counts) is in clear. Only the last `keep_runs` runs keep their findings.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from resolvers.saga.sealing import Sealer

from .engine import RunReport
from .findings import Difference, Finding, Fix, RecordRef, Severity
from .rules import ALL_RULES

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger TEXT NOT NULL,
    categories TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    seconds REAL,
    counts TEXT
);
CREATE TABLE IF NOT EXISTS findings (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    rule TEXT NOT NULL,
    category TEXT NOT NULL,
    severity INTEGER NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX IF NOT EXISTS findings_id ON findings(run_id, id);
CREATE TABLE IF NOT EXISTS repairs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    finding_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    status TEXT NOT NULL,
    finished_at TEXT,
    payload BLOB
);
"""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A stored run: its counts as `RunReport` kept them (None while it runs)."""

    id: int
    trigger: str
    categories: tuple[str, ...]
    started_at: datetime
    finished_at: datetime | None
    seconds: float | None
    counts: dict[str, dict[str, int]]

    def count(self, table: str, key: str | None = None) -> int:
        values = self.counts.get(table, {})
        return sum(values.values()) if key is None else values.get(key, 0)


@dataclass(frozen=True, slots=True)
class RepairRecord:
    """One journaled repair: who asked, for which finding, what happened."""

    id: int
    at: datetime
    actor: str
    finding_id: str
    rule: str
    status: str
    finished_at: datetime | None
    detail: dict[str, Any]


class RunStore(Protocol):
    """What the service and repairs need of a store: this SQLite one, or the PostgreSQL one
    every replica shares (resolvers.state.pg_reconcile)."""

    path: str  # where it is, for people

    def close(self) -> None: ...

    def begin_run(
        self,
        categories: Collection[str],
        trigger: str,
        at: datetime,
        *,
        slot: datetime | None = None,
    ) -> int: ...

    def add_findings(self, run_id: int, start: int, findings: Iterable[Finding]) -> int: ...

    def finish_run(self, run_id: int, report: RunReport) -> None: ...

    def last_run(self, *, finished: bool = True) -> RunRecord | None: ...

    def run(self, run_id: int) -> RunRecord | None: ...

    def findings(
        self,
        run_id: int,
        *,
        rules: Collection[str] = (),
        severity: Severity = Severity.INFO,
        offset: int = 0,
        limit: int = 50,
    ) -> list[Finding]: ...

    def count_findings(
        self, run_id: int, *, rules: Collection[str] = (), severity: Severity = Severity.INFO
    ) -> int: ...

    def finding(self, run_id: int, finding_id: str) -> Finding | None: ...

    def begin_repair(
        self, *, actor: str, finding_id: str, rule: str, at: datetime, detail: Mapping[str, Any]
    ) -> int: ...

    def finish_repair(
        self, repair_id: int, *, status: str, at: datetime, detail: Mapping[str, Any]
    ) -> None: ...

    def repairs(self, *, limit: int = 100) -> list[RepairRecord]: ...


class ReconcileStore:
    """Runs, findings and the repair journal of reconciliation (see the module docstring)."""

    def __init__(self, path: str | Path, sealer: Sealer | None = None, *, keep_runs: int = 5):
        self.path = str(path)
        self._sealer = sealer
        self._keep = keep_runs
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # runs and findings

    def begin_run(
        self,
        categories: Collection[str],
        trigger: str,
        at: datetime,
        *,
        slot: datetime | None = None,
    ) -> int:
        """A new run of these finding categories (rule names); `slot` (the scheduled time a
        shared schedule ran it for) is kept by the shared store only."""
        names = json.dumps(list(categories))
        cursor = self._db.execute(
            "INSERT INTO runs (trigger, categories, started_at) VALUES (?, ?, ?)",
            (trigger, names, at.isoformat()),
        )
        return int(cursor.lastrowid or 0)

    def add_findings(self, run_id: int, start: int, findings: Iterable[Finding]) -> int:
        """Store findings numbered from `start`; returns the next number."""
        rows = []
        for seq, finding in enumerate(findings, start):
            payload = self._seal(f"finding:{run_id}:{seq}", encode_finding(finding))
            rule = finding.rule
            rows.append(
                (run_id, seq, finding.id, rule.id, rule.category.value, rule.severity.rank, payload)
            )
        self._db.executemany("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return start + len(rows)

    def finish_run(self, run_id: int, report: RunReport) -> None:
        counts = counts_of(report)
        finished = (report.finished_at or report.started_at).isoformat()
        self._db.execute(
            "UPDATE runs SET finished_at = ?, seconds = ?, counts = ? WHERE id = ?",
            (finished, report.seconds, json.dumps(counts), run_id),
        )
        self._prune()

    def last_run(self, *, finished: bool = True) -> RunRecord | None:
        where = "WHERE finished_at IS NOT NULL" if finished else ""
        row = self._db.execute(
            f"SELECT * FROM runs {where} ORDER BY id DESC LIMIT 1"  # noqa: S608
        ).fetchone()
        return _run(row) if row else None

    def run(self, run_id: int) -> RunRecord | None:
        row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
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
        """The run's findings of these rules (rule ids; all when empty) in the order found."""
        where, params = _filter(run_id, rules, severity)
        rows = self._db.execute(
            f"SELECT seq, payload FROM findings WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",  # noqa: S608
            [*params, limit, offset],
        ).fetchall()
        return [decode_finding(self._open(f"finding:{run_id}:{seq}", blob)) for seq, blob in rows]

    def count_findings(
        self, run_id: int, *, rules: Collection[str] = (), severity: Severity = Severity.INFO
    ) -> int:
        where, params = _filter(run_id, rules, severity)
        row = self._db.execute(f"SELECT COUNT(*) FROM findings WHERE {where}", params).fetchone()  # noqa: S608
        return int(row[0])

    def finding(self, run_id: int, finding_id: str) -> Finding | None:
        row = self._db.execute(
            "SELECT seq, payload FROM findings WHERE run_id = ? AND id = ? LIMIT 1",
            (run_id, finding_id),
        ).fetchone()
        return decode_finding(self._open(f"finding:{run_id}:{row[0]}", row[1])) if row else None

    def _prune(self) -> None:
        self._db.execute(
            "DELETE FROM findings WHERE run_id NOT IN "
            "(SELECT id FROM runs ORDER BY id DESC LIMIT ?)",
            (self._keep,),
        )

    # the repair journal

    def begin_repair(
        self, *, actor: str, finding_id: str, rule: str, at: datetime, detail: Mapping[str, Any]
    ) -> int:
        cursor = self._db.execute(
            "INSERT INTO repairs (at, actor, finding_id, rule, status) VALUES (?, ?, ?, ?, ?)",
            (at.isoformat(), actor, finding_id, rule, "applying"),
        )
        repair_id = int(cursor.lastrowid or 0)
        self._save_repair(repair_id, "applying", None, detail)
        return repair_id

    def finish_repair(
        self, repair_id: int, *, status: str, at: datetime, detail: Mapping[str, Any]
    ) -> None:
        self._save_repair(repair_id, status, at, detail)

    def repairs(self, *, limit: int = 100) -> list[RepairRecord]:
        rows = self._db.execute(
            "SELECT id, at, actor, finding_id, rule, status, finished_at, payload FROM repairs "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [self._repair(row) for row in rows]

    def _repair(self, row: tuple[Any, ...]) -> RepairRecord:
        rid, at, actor, fid, rule, status, done, blob = row
        return RepairRecord(
            id=rid,
            at=datetime.fromisoformat(at),
            actor=actor,
            finding_id=fid,
            rule=rule,
            status=status,
            finished_at=datetime.fromisoformat(done) if done else None,
            detail=json.loads(self._open(f"repair:{rid}", blob)) if blob else {},
        )

    def _save_repair(
        self, repair_id: int, status: str, at: datetime | None, detail: Mapping[str, Any]
    ) -> None:
        blob = self._seal(f"repair:{repair_id}", json.dumps(detail, default=str).encode())
        self._db.execute(
            "UPDATE repairs SET status = ?, finished_at = ?, payload = ? WHERE id = ?",
            (status, at.isoformat() if at else None, blob, repair_id),
        )

    def _seal(self, record_id: str, plaintext: bytes) -> bytes:
        return self._sealer.seal(record_id, plaintext) if self._sealer else plaintext

    def _open(self, record_id: str, blob: bytes) -> bytes:
        return self._sealer.open(record_id, blob) if self._sealer else bytes(blob)


def _filter(run_id: int, rules: Collection[str], severity: Severity) -> tuple[str, list[Any]]:
    where = "run_id = ? AND severity >= ?"
    params: list[Any] = [run_id, severity.rank]
    if rules:
        where += f" AND rule IN ({','.join('?' for _ in rules)})"
        params += list(rules)
    return where, params


def _run(row: tuple[Any, ...]) -> RunRecord:
    rid, trigger, categories, started, finished, seconds, counts = row
    return RunRecord(
        rid,
        trigger,
        tuple(json.loads(categories)),
        datetime.fromisoformat(started),
        datetime.fromisoformat(finished) if finished else None,
        seconds,
        json.loads(counts) if counts else {},
    )


def counts_of(report: RunReport) -> dict[str, dict[str, int]]:
    """A finished run's counts as stored (by rule, severity, category; records read)."""
    return {
        "rule": dict(report.by_rule),
        "severity": dict(report.by_severity),
        "category": dict(report.by_category),
        "read": dict(report.read),
    }


def encode_finding(finding: Finding) -> bytes:
    data = {
        "rule": finding.rule.id,
        "key": list(finding.key),
        "summary": finding.summary,
        "records": [asdict(r) for r in finding.records],
        "fix": {**asdict(finding.fix), "targets": list(finding.fix.targets)},
        "differences": [asdict(d) for d in finding.differences],
    }
    return json.dumps(data, separators=(",", ":")).encode()


def decode_finding(raw: bytes) -> Finding:
    data = json.loads(raw)
    fix = data["fix"]
    return Finding(
        ALL_RULES[data["rule"]],
        tuple(data["key"]),
        data["summary"],
        tuple(RecordRef(**r) for r in data["records"]),
        Fix(**{**fix, "targets": tuple(fix["targets"])}),
        tuple(Difference(**d) for d in data["differences"]),
    )
