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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast, get_args

from .change import Change, ChangeSink, Entity, Operation, Origin, System

Clock = Callable[[], float]  # seconds since the epoch

# The inbox's tables; the same names and columns in SQLite (here) and in PostgreSQL
# (resolvers.state.migrations, version 2). Times are seconds since the epoch.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sync_inbox (
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
CREATE UNIQUE INDEX IF NOT EXISTS sync_inbox_version ON sync_inbox(key, version)
    WHERE version IS NOT NULL;
CREATE INDEX IF NOT EXISTS sync_inbox_open ON sync_inbox(state, key, vsort);
CREATE TABLE IF NOT EXISTS sync_applied (key TEXT PRIMARY KEY, version TEXT NOT NULL, at REAL);
CREATE TABLE IF NOT EXISTS sync_written (
    key TEXT PRIMARY KEY, version TEXT NOT NULL, fingerprint TEXT NOT NULL, at REAL
);
CREATE TABLE IF NOT EXISTS sync_watermarks (
    source TEXT PRIMARY KEY, value TEXT NOT NULL, at REAL
);
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


class Cursor(Protocol):
    """What a store's `execute` answers (sqlite3 and psycopg cursors both are)."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


Execute = Callable[[str, Sequence[object]], Cursor]
T = TypeVar("T")


class InboxStore(Protocol):
    """One SQL database holding the inbox's tables (`_SCHEMA`). `run(work)` calls
    `work(execute)` in one transaction; with `lock`, writers of the same lock name are
    serialised for its length. SQL is written with `?` placeholders and rows are read by
    column name."""

    async def run(self, work: Callable[[Execute], T], *, lock: str | None = None) -> T: ...
    def close(self) -> None: ...


class SqliteStore:
    """The inbox's tables in one SQLite file (WAL). Several processes of one host may share
    it: a transaction with a lock is `BEGIN IMMEDIATE` (the file's write lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    async def run(self, work: Callable[[Execute], T], *, lock: str | None = None) -> T:
        self._db.execute("BEGIN IMMEDIATE" if lock is not None else "BEGIN")
        try:
            result = work(self._db.execute)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return result

    def close(self) -> None:
        self._db.close()


class SqlInbox:
    """The inbox over an `InboxStore`: SQLite (`SqliteInbox`, the default) or PostgreSQL
    (`resolvers.state.pg_inbox`, shared by replicas). One set of statements serves both."""

    def __init__(
        self,
        store: InboxStore,
        *,
        lease_s: float = 60.0,
        backoff: Backoff | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.store = store
        self.lease_s = lease_s
        self.backoff = backoff or Backoff()
        self._clock = clock

    def close(self) -> None:
        self.store.close()

    # receiving

    async def put(self, change: Change) -> bool:
        key = key_text(change.key)
        version = None if change.version is None else version_text(change.version)
        row = (
            *(key, change.system, change.entity, change.record_id, version),
            version or version_text(change.received_at),
            *(change.operation, change.origin, json.dumps(sorted(change.fields))),
            *(change.received_at.timestamp(), self._clock()),
        )  # field names only: values are not kept

        def insert(execute: Execute) -> bool:
            if version is None and execute(_WAITING_HINT, (key,)).fetchone() is not None:
                return False
            return execute(_INSERT, row).rowcount == 1

        return await self.store.run(insert, lock=key)

    # processing

    async def claim(self, owner: str, *, limit: int = 10) -> list[InboxItem]:
        """Up to `limit` changes of distinct keys, each the first open one of its key."""
        now = self._clock()

        def take(execute: Execute) -> list[Any]:
            rows = execute(_CLAIMABLE, (now, now, now, now, limit)).fetchall()
            for row in rows:
                execute(
                    "UPDATE sync_inbox SET state = 'claimed', owner = ?, lease_until = ?,"
                    " attempts = attempts + 1 WHERE id = ?",
                    (owner, now + self.lease_s, row["id"]),
                )
            return rows

        rows = await self.store.run(take, lock="sync-inbox-claims")
        return [_item(row, attempt=row["attempts"] + 1) for row in rows]

    async def done(self, item: InboxItem, owner: str, *, outcome: str) -> bool:
        """Mark a claimed change done; False when the lease was lost to another owner."""
        return await self._finish(item, owner, "done", outcome, 0.0)

    async def failed(self, item: InboxItem, owner: str, reason: str) -> bool:
        """Schedule the change's retry, or park it as dead after the last attempt.
        True when it is dead."""
        if item.attempts >= self.backoff.attempts:
            await self._finish(item, owner, "dead", reason, 0.0)
            return True
        delay = self.backoff.delay(item.attempts)
        await self._finish(item, owner, "retry", reason, self._clock() + delay)
        return False

    async def _finish(
        self, item: InboxItem, owner: str, state: str, reason: str, next_at: float
    ) -> bool:
        values = (state, reason[:2000], next_at, self._clock(), item.id, owner)
        return (
            await self._write(
                "UPDATE sync_inbox SET state = ?, reason = ?, next_at = ?, finished_at = ?,"
                " forced = 0, lease_until = 0 WHERE id = ? AND state = 'claimed' AND owner = ?",
                values,
            )
            == 1
        )

    # per-key versions: what was applied, and what a sync rule wrote

    async def applied(self, key: str) -> datetime | None:
        row = await self._one("SELECT version FROM sync_applied WHERE key = ?", (key,))
        return parse_version(row["version"]) if row else None

    async def mark_applied(self, key: str, version: datetime) -> None:
        """Remember the newest version of `key` applied (an older one never replaces it)."""
        await self._write(
            "INSERT INTO sync_applied (key, version, at) VALUES (?, ?, ?) ON CONFLICT(key)"
            " DO UPDATE SET version = excluded.version, at = excluded.at"
            " WHERE excluded.version > sync_applied.version",
            (key, version_text(version), self._clock()),
        )

    async def written(self, key: str) -> WriteMark | None:
        row = await self._one("SELECT version, fingerprint FROM sync_written WHERE key = ?", (key,))
        if row is None:
            return None
        return WriteMark(datetime.fromisoformat(row["version"]), row["fingerprint"])

    async def mark_written(self, key: str, version: datetime, fingerprint: str = "") -> None:
        """Remember a sync rule's write to `key`: the newest one wins."""
        await self._write(
            "INSERT INTO sync_written (key, version, fingerprint, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET version = excluded.version,"
            " fingerprint = excluded.fingerprint, at = excluded.at"
            " WHERE excluded.version >= sync_written.version",
            (key, version_text(version), fingerprint, self._clock()),
        )

    # operating

    async def status(self, *, failed_limit: int = 50) -> InboxStatus:
        now = self._clock()

        def read(execute: Execute) -> InboxStatus:
            sources = tuple(_source(execute, system, now) for system in ("crm", "erp"))
            rows = execute(
                "SELECT * FROM sync_inbox WHERE state IN ('retry', 'dead') ORDER BY id LIMIT ?",
                (failed_limit,),
            ).fetchall()
            marks = execute(
                "SELECT source, value FROM sync_watermarks ORDER BY source", ()
            ).fetchall()
            failed = tuple(_failed(row) for row in rows)
            return InboxStatus(sources, failed, {m["source"]: m["value"] for m in marks})

        return await self.store.run(read)

    async def retry(self, item_id: int | None = None) -> int:
        """Retry one failed change now (by id), or every one; returns how many."""
        where, params = ("AND id = ?", (item_id,)) if item_id is not None else ("", ())
        return await self._write(
            "UPDATE sync_inbox SET state = 'pending', attempts = 0, next_at = 0"  # noqa: S608
            f" WHERE state IN ('retry', 'dead') {where}",
            params,
        )

    async def replay(self, *, since: datetime, key: str | None = None) -> int:
        """Apply again the changes done since `since` (of one key, or all): rules run even for a
        version already applied; being idempotent, they write only what differs now."""
        where, params = ("AND key = ?", (key,)) if key is not None else ("", ())
        return await self._write(
            "UPDATE sync_inbox SET state = 'pending', attempts = 0, next_at = 0,"  # noqa: S608
            f" forced = 1 WHERE state = 'done' AND received_at >= ? {where}",
            (since.timestamp(), *params),
        )

    async def watermark(self, source: str) -> str | None:
        row = await self._one("SELECT value FROM sync_watermarks WHERE source = ?", (source,))
        return None if row is None else str(row["value"])

    async def set_watermark(self, source: str, value: str) -> None:
        """Move the source's watermark to `value` (UTC ISO text); never backwards."""
        await self._write(
            "INSERT INTO sync_watermarks (source, value, at) VALUES (?, ?, ?)"
            " ON CONFLICT(source) DO UPDATE SET at = excluded.at, value = CASE"
            " WHEN excluded.value > sync_watermarks.value THEN excluded.value"
            " ELSE sync_watermarks.value END",
            (source, value, self._clock()),
        )

    async def _one(self, sql: str, params: Sequence[object]) -> Any:
        return await self.store.run(lambda execute: execute(sql, params).fetchone())

    async def _write(self, sql: str, params: Sequence[object]) -> int:
        return await self.store.run(lambda execute: execute(sql, params).rowcount)


class SqliteInbox(SqlInbox):
    """The inbox in one SQLite file (WAL), the default store."""

    def __init__(
        self,
        path: str | Path,
        *,
        lease_s: float = 60.0,
        backoff: Backoff | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.path = str(path)
        super().__init__(SqliteStore(path), lease_s=lease_s, backoff=backoff, clock=clock)


def _source(execute: Execute, system: str, now: float) -> SourceStatus:
    rows = execute(
        "SELECT state, count(*) AS n FROM sync_inbox WHERE system = ? GROUP BY state",
        (system,),
    ).fetchall()
    counts = {row["state"]: row["n"] for row in rows}
    times = execute(
        "SELECT min(CASE WHEN state IN ('pending', 'claimed', 'retry') THEN received_at END)"
        " AS oldest, max(received_at) AS last_received,"
        " max(CASE WHEN state = 'done' THEN finished_at END) AS last_done"
        " FROM sync_inbox WHERE system = ?",
        (system,),
    ).fetchone()
    oldest = times["oldest"]
    return SourceStatus(
        system=system,
        pending=counts.get("pending", 0) + counts.get("claimed", 0),
        retrying=counts.get("retry", 0),
        dead=counts.get("dead", 0),
        done=counts.get("done", 0),
        lag_s=max(0.0, now - oldest) if oldest is not None else 0.0,
        last_received_at=_time(times["last_received"]),
        last_done_at=_time(times["last_done"]),
    )


_WAITING_HINT = "SELECT 1 FROM sync_inbox WHERE key = ? AND version IS NULL AND state = 'pending'"
_INSERT = (
    "INSERT INTO sync_inbox (key, system, entity, record_id, version, vsort, operation, origin,"
    " fields, received_at, state, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)"
    " ON CONFLICT DO NOTHING"
)
# The first open item of each key, if it may run now: pending or due for its retry, or
# claimed by an owner whose lease ran out. A key whose first open item waits for its retry,
# or with any item claimed under a live lease (an earlier version that arrived late), gives
# nothing.
_CLAIMABLE = """
SELECT * FROM sync_inbox AS i
WHERE i.state IN ('pending', 'claimed', 'retry')
  AND NOT EXISTS (
      SELECT 1 FROM sync_inbox AS j
      WHERE j.key = i.key AND j.state IN ('pending', 'claimed', 'retry')
        AND (j.vsort, j.id) < (i.vsort, i.id))
  AND NOT EXISTS (
      SELECT 1 FROM sync_inbox AS k
      WHERE k.key = i.key AND k.state = 'claimed' AND k.lease_until > ? AND k.id != i.id)
  AND ((i.state = 'pending' AND i.next_at <= ?)
       OR (i.state = 'retry' AND i.next_at <= ?)
       OR (i.state = 'claimed' AND i.lease_until <= ?))
ORDER BY i.id
LIMIT ?
"""


def _item(row: Any, *, attempt: int) -> InboxItem:
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


def _failed(row: Any) -> FailedItem:
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
