"""The order-process journal: SQLite, one row per process and one per step event.

Only routing data is stored in clear (process id, status, step names, times); the process
state, which holds customer data, is sealed with AES-GCM. The idempotency key and the CRM
order id are indexed through keyed digests, so lookups work without plaintext.

Multi-instance: the unique key digest guards one journal file; gateways with separate
journals are kept from duplicating an order by the CRM upsert on `External_Ref`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from .sealing import Sealer
from .state import UNFINISHED, ProcessState, ProcessStatus, dump_state, load_state

_SCHEMA = """
CREATE TABLE IF NOT EXISTS processes (
    id TEXT PRIMARY KEY,
    key_digest TEXT UNIQUE,
    order_digest TEXT,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS processes_order ON processes(order_digest);
CREATE INDEX IF NOT EXISTS processes_status ON processes(status);
CREATE TABLE IF NOT EXISTS steps (
    process_id TEXT NOT NULL REFERENCES processes(id),
    seq INTEGER NOT NULL,
    step TEXT NOT NULL,
    phase TEXT NOT NULL,
    at TEXT NOT NULL,
    detail BLOB,
    PRIMARY KEY (process_id, seq)
);
"""


@dataclass(frozen=True, slots=True)
class StepEntry:
    """One journal event: a step started, done, failed, or (for undo steps) the same."""

    step: str
    phase: str
    at: datetime
    detail: str | None


class JournalStore(Protocol):
    """What the order process needs of its journal: `Journal` (SQLite, one process) or
    resolvers.state.pg_journal.PostgresJournal (shared by replicas, with leases)."""

    def close(self) -> None: ...
    def key_digest(self, idempotency_key: str) -> str: ...
    def digest(self, purpose: str, value: str) -> str: ...
    def claim(self, state: ProcessState) -> ProcessState | None: ...
    def save(self, state: ProcessState) -> None: ...
    def release_key(self, process_id: str) -> None: ...
    def record_step(
        self, process_id: str, step: str, phase: str, at: datetime, detail: str | None = None
    ) -> None: ...
    def load(self, process_id: str) -> ProcessState | None: ...
    def find_by_key(self, idempotency_key: str) -> ProcessState | None: ...
    def find_by_order(self, crm_order_id: str) -> ProcessState | None: ...
    def unfinished(self) -> list[ProcessState]:
        """Interrupted processes no live holder is running (start-up recovery)."""
        ...

    def resumable(self) -> list[ProcessState]:
        """Unfinished processes the background resolver may take up now."""
        ...

    def ended_since(self, statuses: Sequence[str], since: datetime) -> list[ProcessState]: ...
    def steps(self, process_id: str) -> list[StepEntry]: ...
    def hold(self, process_id: str) -> AbstractContextManager[None]:
        """Own the process while the block runs (a lease, for journals shared by replicas)."""
        ...


class Journal:
    """Durable record of every process and step, written before and after each step."""

    def __init__(self, path: str | Path, sealer: Sealer) -> None:
        self.path = str(path)
        self._sealer = sealer
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def key_digest(self, idempotency_key: str) -> str:
        return self._sealer.digest("idempotency-key", idempotency_key)

    def digest(self, purpose: str, value: str) -> str:
        return self._sealer.digest(purpose, value)

    def claim(self, state: ProcessState) -> ProcessState | None:
        """Insert a new process; if its key is taken, return the process that holds it."""
        try:
            self._db.execute(
                "INSERT INTO processes (id, key_digest, status, created_at, updated_at, payload)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    state.id,
                    self.key_digest(state.idempotency_key),
                    state.status.value,
                    state.created_at.isoformat(),
                    state.updated_at.isoformat(),
                    self._seal_state(state),
                ),
            )
        except sqlite3.IntegrityError:
            return self.find_by_key(state.idempotency_key)
        return None

    def save(self, state: ProcessState) -> None:
        order_digest = (
            self._sealer.digest("crm-order", state.crm_order_id) if state.crm_order_id else None
        )
        self._db.execute(
            "UPDATE processes SET status = ?, order_digest = ?, updated_at = ?, payload = ?"
            " WHERE id = ?",
            (
                state.status.value,
                order_digest,
                state.updated_at.isoformat(),
                self._seal_state(state),
                state.id,
            ),
        )

    def release_key(self, process_id: str) -> None:
        """Free the idempotency key of a process that wrote nothing (invalid input)."""
        self._db.execute("UPDATE processes SET key_digest = NULL WHERE id = ?", (process_id,))

    def record_step(
        self, process_id: str, step: str, phase: str, at: datetime, detail: str | None = None
    ) -> None:
        row = self._db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM steps WHERE process_id = ?", (process_id,)
        ).fetchone()
        seq = int(row[0])
        sealed = self._sealer.seal(f"step:{process_id}:{seq}", detail.encode()) if detail else None
        self._db.execute(
            "INSERT INTO steps (process_id, seq, step, phase, at, detail) VALUES (?,?,?,?,?,?)",
            (process_id, seq, step, phase, at.isoformat(), sealed),
        )

    def load(self, process_id: str) -> ProcessState | None:
        row = self._db.execute(
            "SELECT id, payload FROM processes WHERE id = ?", (process_id,)
        ).fetchone()
        return self._open_state(row[0], row[1]) if row else None

    def find_by_key(self, idempotency_key: str) -> ProcessState | None:
        row = self._db.execute(
            "SELECT id, payload FROM processes WHERE key_digest = ?",
            (self.key_digest(idempotency_key),),
        ).fetchone()
        return self._open_state(row[0], row[1]) if row else None

    def find_by_order(self, crm_order_id: str) -> ProcessState | None:
        row = self._db.execute(
            "SELECT id, payload FROM processes WHERE order_digest = ?"
            " ORDER BY created_at DESC LIMIT 1",
            (self._sealer.digest("crm-order", crm_order_id),),
        ).fetchone()
        return self._open_state(row[0], row[1]) if row else None

    def unfinished(self) -> list[ProcessState]:
        marks = ",".join("?" for _ in UNFINISHED)
        rows = self._db.execute(
            f"SELECT id, payload FROM processes WHERE status IN ({marks}) ORDER BY created_at",  # noqa: S608
            [s.value for s in UNFINISHED],
        ).fetchall()
        return [self._open_state(pid, blob) for pid, blob in rows]

    def resumable(self) -> list[ProcessState]:
        """In one process the running ones are being run here: only NEEDS_ATTENTION ones."""
        return [s for s in self.unfinished() if s.status is ProcessStatus.NEEDS_ATTENTION]

    @contextmanager
    def hold(self, process_id: str) -> Iterator[None]:
        """One process owns every process: the per-process lock is all it takes."""
        yield

    def ended_since(self, statuses: Sequence[str], since: datetime) -> list[ProcessState]:
        """Processes in one of `statuses` last changed at or after `since`, oldest first."""
        marks = ",".join("?" for _ in statuses)
        rows = self._db.execute(
            f"SELECT id, payload FROM processes WHERE status IN ({marks})"  # noqa: S608
            " AND updated_at >= ? ORDER BY updated_at",
            [*statuses, since.isoformat()],
        ).fetchall()
        return [self._open_state(pid, blob) for pid, blob in rows]

    def steps(self, process_id: str) -> list[StepEntry]:
        rows = self._db.execute(
            "SELECT seq, step, phase, at, detail FROM steps WHERE process_id = ? ORDER BY seq",
            (process_id,),
        ).fetchall()
        return [
            StepEntry(
                step, phase, datetime.fromisoformat(at), self._open_detail(process_id, seq, d)
            )
            for seq, step, phase, at, d in rows
        ]

    def _seal_state(self, state: ProcessState) -> bytes:
        return self._sealer.seal(f"process:{state.id}", dump_state(state))

    def _open_state(self, process_id: str, blob: bytes) -> ProcessState:
        return load_state(self._sealer.open(f"process:{process_id}", blob))

    def _open_detail(self, process_id: str, seq: int, blob: bytes | None) -> str | None:
        if blob is None:
            return None
        return self._sealer.open(f"step:{process_id}:{seq}", blob).decode()
