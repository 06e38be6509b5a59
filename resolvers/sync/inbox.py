"""The durable inbox: every change is stored before anything acts on it, then claimed, applied
and marked done, failed (retried with backoff) or dead (parked with its reason).

    inbox = SqliteInbox("var/sync.sqlite")
    await inbox.put(change)                        # False: this (key, version) was stored before
    for item in await inbox.claim("worker-1", limit=10):
        try:
            ...                                    # read the record, apply the rules
            await inbox.done(item, "worker-1", outcome="customer CUST-1 updated")
        except BackendError as exc:
            await inbox.failed(item, "worker-1", exc.message)

Guarantees, whatever order and how often changes arrive:
- `put` is idempotent per (key, version); a change without a version (a Zoho callback names
  ids, not times) joins an unclaimed one of the same key instead of queueing twice.
- Changes of one key are claimed one at a time, in version order (an unknown version counts as
  the time it was received): a key with an item claimed or waiting for its retry gives nothing.
- A claim is a lease (`lease_s`): an item claimed by a process that died is claimed again
  once the lease ran out, so it is applied after a restart (rules must be idempotent: they
  read before they write).
- Only routing data is stored (system, entity, record id, version, the names of the fields the
  hint said changed): no record values, so the file holds no customer data.

`Inbox` is the protocol the processor, the status field and the CLI use; `SqliteInbox` is the
default store (one file, shared by the processes of one host). A shared store for several hosts
implements the same protocol (e.g. PostgreSQL with `SELECT … FOR UPDATE SKIP LOCKED`).
The inbox also keeps, per key, the last version applied and the last version a sync rule
wrote (to recognise its own write coming back), and the catch-up poll's watermarks.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, cast, get_args

from .change import Change, ChangeSink, Entity, Operation, Origin, System

Clock = Callable[[], float]  # seconds since the epoch

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    system TEXT NOT NULL,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    version TEXT,
    vsort TEXT NOT NULL,
    operation TEXT NOT NULL,
    origin TEXT NOT NULL,
    fields TEXT NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL DEFAULT 0,
    lease_until REAL NOT NULL DEFAULT 0,
    owner TEXT,
    forced INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    finished_at REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS inbox_version ON inbox(key, version) WHERE version IS NOT NULL;
CREATE INDEX IF NOT EXISTS inbox_open ON inbox(state, key, vsort);
CREATE TABLE IF NOT EXISTS applied (key TEXT PRIMARY KEY, version TEXT NOT NULL, at REAL);
CREATE TABLE IF NOT EXISTS written (
    key TEXT PRIMARY KEY, version TEXT NOT NULL, fingerprint TEXT NOT NULL, at REAL
);
CREATE TABLE IF NOT EXISTS watermarks (source TEXT PRIMARY KEY, value TEXT NOT NULL, at REAL);
"""
_OPEN = ("pending", "claimed", "retry")


def key_text(key: tuple[str, str, str]) -> str:
    """One text for a change's key: `crm:account:4150868000000002175`."""
    return ":".join(key)


def version_text(version: datetime) -> str:
    """A version as sortable text: UTC, microseconds always written."""
    return version.astimezone(UTC).isoformat(timespec="microseconds")


def parse_version(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Retry delays of a failing change: `base_s * factor**(attempt-1)`, at most `max_s`;
    after `attempts` tries it is dead."""

    attempts: int = 5
    base_s: float = 2.0
    factor: float = 4.0
    max_s: float = 600.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_s, self.base_s * self.factor ** max(0, attempt - 1)))


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A claimed change; `attempts` counts this claim (1 the first time). `forced`: replayed
    by hand, applied even if its version was."""

    id: int
    change: Change
    attempts: int
    forced: bool = False


@dataclass(frozen=True, slots=True)
class WriteMark:
    """The last write a sync rule made to a record: its version after the write, and a
    fingerprint of the values written."""

    version: datetime
    fingerprint: str


@dataclass(frozen=True, slots=True)
class FailedItem:
    """A change that failed: waiting for its retry (`retry`) or parked (`dead`)."""

    id: int
    key: str
    version: datetime | None
    state: str
    attempts: int
    reason: str
    received_at: datetime
    next_at: datetime | None


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source system: what waits, what failed, how far behind processing is."""

    system: str
    pending: int
    retrying: int
    dead: int
    done: int
    lag_s: float  # age of its oldest unfinished change; 0 when nothing waits
    last_received_at: datetime | None
    last_done_at: datetime | None


@dataclass(frozen=True, slots=True)
class InboxStatus:
    sources: tuple[SourceStatus, ...]
    failed: tuple[FailedItem, ...]
    watermarks: dict[str, str]


class Inbox(ChangeSink, Protocol):
    """The durable store of changes between the receivers and the processor."""

    async def claim(self, owner: str, *, limit: int = 10) -> list[InboxItem]: ...
    async def done(self, item: InboxItem, owner: str, *, outcome: str) -> bool: ...
    async def failed(self, item: InboxItem, owner: str, reason: str) -> bool: ...
    async def applied(self, key: str) -> datetime | None: ...
    async def mark_applied(self, key: str, version: datetime) -> None: ...
    async def written(self, key: str) -> WriteMark | None: ...
    async def mark_written(self, key: str, version: datetime, fingerprint: str = "") -> None: ...
    async def status(self, *, failed_limit: int = 50) -> InboxStatus: ...
    async def retry(self, item_id: int | None = None) -> int: ...
    async def replay(self, *, since: datetime, key: str | None = None) -> int: ...
    async def watermark(self, source: str) -> str | None: ...
    async def set_watermark(self, source: str, value: str) -> None: ...
    def close(self) -> None: ...


class SqliteInbox:
    """The inbox in one SQLite file (WAL). Several processes may share the file: claims are
    made in `BEGIN IMMEDIATE` transactions and leased."""

    def __init__(
        self,
        path: str | Path,
        *,
        lease_s: float = 60.0,
        backoff: Backoff | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.path = str(path)
        self.lease_s = lease_s
        self.backoff = backoff or Backoff()
        self._clock = clock
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    # receiving

    async def put(self, change: Change) -> bool:
        key = key_text(change.key)
        now = self._clock()
        received = change.received_at.timestamp()
        version = None if change.version is None else version_text(change.version)
        vsort = version or version_text(change.received_at)
        fields = json.dumps(sorted(change.fields))  # names only: values are not kept
        with self._transaction():
            if version is None and self._unclaimed_unversioned(key):
                return False
            try:
                self._db.execute(
                    "INSERT INTO inbox (key, system, entity, record_id, version, vsort, operation,"
                    " origin, fields, received_at, state, next_at) VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                    (
                        *(key, change.system, change.entity, change.record_id, version, vsort),
                        *(change.operation, change.origin, fields, received, now),
                    ),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    def _unclaimed_unversioned(self, key: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM inbox WHERE key = ? AND version IS NULL AND state = 'pending'",
            (key,),
        ).fetchone()
        return row is not None

    # processing

    async def claim(self, owner: str, *, limit: int = 10) -> list[InboxItem]:
        """Up to `limit` changes of distinct keys, each the first open one of its key."""
        now = self._clock()
        with self._transaction():
            rows = self._db.execute(_CLAIMABLE, (now, now, now, now, limit)).fetchall()
            for row in rows:
                self._db.execute(
                    "UPDATE inbox SET state = 'claimed', owner = ?, lease_until = ?,"
                    " attempts = attempts + 1 WHERE id = ?",
                    (owner, now + self.lease_s, row["id"]),
                )
        return [_item(row, attempt=row["attempts"] + 1) for row in rows]

    async def done(self, item: InboxItem, owner: str, *, outcome: str) -> bool:
        """Mark a claimed change done; False when the lease was lost to another owner."""
        return self._finish(item, owner, "done", outcome, 0.0)

    async def failed(self, item: InboxItem, owner: str, reason: str) -> bool:
        """Schedule the change's retry, or park it as dead after the last attempt.
        True when it is dead."""
        if item.attempts >= self.backoff.attempts:
            self._finish(item, owner, "dead", reason, 0.0)
            return True
        delay = self.backoff.delay(item.attempts)
        self._finish(item, owner, "retry", reason, self._clock() + delay)
        return False

    def _finish(self, item: InboxItem, owner: str, state: str, reason: str, next_at: float) -> bool:
        cursor = self._db.execute(
            "UPDATE inbox SET state = ?, reason = ?, next_at = ?, finished_at = ?, forced = 0,"
            " lease_until = 0 WHERE id = ? AND state = 'claimed' AND owner = ?",
            (state, reason[:2000], next_at, self._clock(), item.id, owner),
        )
        return cursor.rowcount == 1

    # per-key versions: what was applied, and what a sync rule wrote

    async def applied(self, key: str) -> datetime | None:
        row = self._db.execute("SELECT version FROM applied WHERE key = ?", (key,)).fetchone()
        return parse_version(row["version"]) if row else None

    async def mark_applied(self, key: str, version: datetime) -> None:
        """Remember the newest version of `key` applied (an older one never replaces it)."""
        self._db.execute(
            "INSERT INTO applied (key, version, at) VALUES (?, ?, ?) ON CONFLICT(key)"
            " DO UPDATE SET version = excluded.version, at = excluded.at"
            " WHERE excluded.version > version",
            (key, version_text(version), self._clock()),
        )

    async def written(self, key: str) -> WriteMark | None:
        row = self._db.execute(
            "SELECT version, fingerprint FROM written WHERE key = ?", (key,)
        ).fetchone()
        return WriteMark(datetime.fromisoformat(row[0]), row[1]) if row else None

    async def mark_written(self, key: str, version: datetime, fingerprint: str = "") -> None:
        """Remember a sync rule's write to `key`: the newest one wins."""
        self._db.execute(
            "INSERT INTO written (key, version, fingerprint, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET version = excluded.version,"
            " fingerprint = excluded.fingerprint, at = excluded.at"
            " WHERE excluded.version >= version",
            (key, version_text(version), fingerprint, self._clock()),
        )

    # operating

    async def status(self, *, failed_limit: int = 50) -> InboxStatus:
        now = self._clock()
        sources = tuple(self._source(system, now) for system in ("crm", "erp"))
        rows = self._db.execute(
            "SELECT * FROM inbox WHERE state IN ('retry', 'dead') ORDER BY id LIMIT ?",
            (failed_limit,),
        ).fetchall()
        marks = self._db.execute("SELECT source, value FROM watermarks ORDER BY source")
        return InboxStatus(
            sources, tuple(_failed(row) for row in rows), {r[0]: r[1] for r in marks}
        )

    def _source(self, system: str, now: float) -> SourceStatus:
        counts = dict(
            self._db.execute(
                "SELECT state, count(*) FROM inbox WHERE system = ? GROUP BY state", (system,)
            ).fetchall()
        )
        oldest, last_received, last_done = self._db.execute(
            "SELECT min(CASE WHEN state IN ('pending', 'claimed', 'retry') THEN received_at END),"
            " max(received_at), max(CASE WHEN state = 'done' THEN finished_at END)"
            " FROM inbox WHERE system = ?",
            (system,),
        ).fetchone()
        return SourceStatus(
            system=system,
            pending=counts.get("pending", 0) + counts.get("claimed", 0),
            retrying=counts.get("retry", 0),
            dead=counts.get("dead", 0),
            done=counts.get("done", 0),
            lag_s=max(0.0, now - oldest) if oldest is not None else 0.0,
            last_received_at=_time(last_received),
            last_done_at=_time(last_done),
        )

    async def retry(self, item_id: int | None = None) -> int:
        """Retry one failed change now (by id), or every one; returns how many."""
        where, params = ("AND id = ?", (item_id,)) if item_id is not None else ("", ())
        cursor = self._db.execute(
            "UPDATE inbox SET state = 'pending', attempts = 0, next_at = 0"  # noqa: S608
            f" WHERE state IN ('retry', 'dead') {where}",
            params,
        )
        return cursor.rowcount

    async def replay(self, *, since: datetime, key: str | None = None) -> int:
        """Apply again the changes done since `since` (of one key, or all): rules run even for a
        version already applied; being idempotent, they write only what differs now."""
        where, params = ("AND key = ?", (key,)) if key is not None else ("", ())
        cursor = self._db.execute(
            "UPDATE inbox SET state = 'pending', attempts = 0, next_at = 0, forced = 1"  # noqa: S608
            f" WHERE state = 'done' AND received_at >= ? {where}",
            (since.timestamp(), *params),
        )
        return cursor.rowcount

    async def watermark(self, source: str) -> str | None:
        row = self._db.execute("SELECT value FROM watermarks WHERE source = ?", (source,))
        found = row.fetchone()
        return None if found is None else str(found["value"])

    async def set_watermark(self, source: str, value: str) -> None:
        """Move the source's watermark to `value` (UTC ISO text); never backwards."""
        self._db.execute(
            "INSERT INTO watermarks (source, value, at) VALUES (?, ?, ?) ON CONFLICT(source)"
            " DO UPDATE SET value = max(value, excluded.value), at = excluded.at",
            (source, value, self._clock()),
        )

    def _transaction(self) -> _Immediate:
        return _Immediate(self._db)


class _Immediate:
    """`BEGIN IMMEDIATE … COMMIT` (ROLLBACK on error): the write lock from the first read."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


# The first open item of each key, if it may run now: pending or due for its retry, or
# claimed by an owner whose lease ran out. A key whose first open item waits for its retry,
# or with any item claimed under a live lease (an earlier version that arrived late), gives
# nothing.
_CLAIMABLE = """
SELECT * FROM inbox AS i
WHERE i.state IN ('pending', 'claimed', 'retry')
  AND NOT EXISTS (
      SELECT 1 FROM inbox AS j
      WHERE j.key = i.key AND j.state IN ('pending', 'claimed', 'retry')
        AND (j.vsort, j.id) < (i.vsort, i.id))
  AND NOT EXISTS (
      SELECT 1 FROM inbox AS k
      WHERE k.key = i.key AND k.state = 'claimed' AND k.lease_until > ? AND k.id != i.id)
  AND ((i.state = 'pending' AND i.next_at <= ?)
       OR (i.state = 'retry' AND i.next_at <= ?)
       OR (i.state = 'claimed' AND i.lease_until <= ?))
ORDER BY i.id
LIMIT ?
"""


def _item(row: sqlite3.Row, *, attempt: int) -> InboxItem:
    change = Change(
        system=_system(row["system"]),
        entity=_entity(row["entity"]),
        record_id=row["record_id"],
        operation=_operation(row["operation"]),
        origin=_origin(row["origin"]),
        received_at=datetime.fromtimestamp(row["received_at"], UTC),
        version=parse_version(row["version"]),
        fields=dict.fromkeys(json.loads(row["fields"])),
    )
    return InboxItem(row["id"], change, attempt, bool(row["forced"]))


def _failed(row: sqlite3.Row) -> FailedItem:
    return FailedItem(
        id=row["id"],
        key=row["key"],
        version=parse_version(row["version"]),
        state=row["state"],
        attempts=row["attempts"],
        reason=row["reason"] or "",
        received_at=datetime.fromtimestamp(row["received_at"], UTC),
        next_at=_time(row["next_at"]) if row["state"] == "retry" else None,
    )


def _time(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _system(value: str) -> System:
    return cast(System, _known(value, get_args(System), "system"))


def _entity(value: str) -> Entity:
    return cast(Entity, _known(value, get_args(Entity), "entity"))


def _operation(value: str) -> Operation:
    return cast(Operation, _known(value, get_args(Operation), "operation"))


def _origin(value: str) -> Origin:
    return cast(Origin, _known(value, get_args(Origin), "origin"))


def _known(value: str, choices: tuple[object, ...], what: str) -> str:
    if value not in choices:
        raise ValueError(f"the inbox holds an unknown {what} {value!r}")
    return value
