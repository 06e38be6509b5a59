"""The order-process journal in PostgreSQL, shared by replicas, with a lease per process.

    journal = PostgresJournal(pool, sealer, lease_s=30)
    with journal.hold(process_id):     # own the process (ProcessBusy if a live replica does)
        ...                            # engine steps; every save is fenced by the ownership

The same rows as the SQLite journal (resolvers.saga.journal): routing data in clear, the
process state and step details sealed with AES-GCM (every replica needs the same journal
key), the idempotency key and CRM order id as keyed digests, unique per key.

Leases: `owner` and `lease_until` on each process. `claim` inserts a process owned by this
replica; `hold` takes it when it is free, ours, or its lease expired; a heartbeat thread
renews the leases of the processes held here every third of `lease_s`; leaving `hold` frees
it. A save by a replica whose lease was taken over is refused (LeaseLost): the new owner's
journal wins. A replica that dies stops renewing, and once `lease_s` has passed its
unfinished processes are `resumable()` by any other replica's resolver pass.

The driver is psycopg 3 (sync, pooled): the engine calls the journal synchronously, as it
does SQLite; each call is one short statement on a pooled connection. An unreachable
database is StateUnavailable.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from resolvers.saga.journal import StepEntry
from resolvers.saga.sealing import Sealer
from resolvers.saga.state import UNFINISHED, ProcessState, dump_state, load_state

from .errors import LeaseLost, ProcessBusy, StateUnavailable

log = logging.getLogger("crossdock.state")
T = TypeVar("T")
Conn = psycopg.Connection[tuple[Any, ...]]
_UNFINISHED = [s.value for s in UNFINISHED]
_FREE = "(owner IS NULL OR owner = %(me)s OR lease_until < now())"


def replica_id() -> str:
    """This process's name as lease owner: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PostgresJournal:
    """The journal of every replica, in one PostgreSQL database (a JournalStore)."""

    def __init__(self, pool: ConnectionPool[Conn], sealer: Sealer, *, lease_s: float) -> None:
        self._pool = pool
        self._sealer = sealer
        self._lease = timedelta(seconds=lease_s)
        self.owner = replica_id()
        self._held: Counter[str] = Counter()
        self._held_lock = threading.Lock()
        self._stop = threading.Event()
        self._heartbeat = threading.Thread(
            target=self._renew_loop, args=(lease_s / 3,), name="journal-leases", daemon=True
        )
        self._heartbeat.start()

    def close(self) -> None:
        self._stop.set()
        self._heartbeat.join(timeout=5)

    def key_digest(self, idempotency_key: str) -> str:
        return self._sealer.digest("idempotency-key", idempotency_key)

    def digest(self, purpose: str, value: str) -> str:
        return self._sealer.digest(purpose, value)

    def claim(self, state: ProcessState) -> ProcessState | None:
        """Insert a new process owned here; if its key is taken, the process that holds it."""
        row = self._one(
            "INSERT INTO order_processes (id, key_digest, status, created_at, updated_at,"
            " payload, owner, lease_until) VALUES (%(id)s, %(key)s, %(status)s, %(created)s,"
            " %(updated)s, %(payload)s, %(me)s, now() + %(lease)s)"
            " ON CONFLICT (key_digest) DO NOTHING RETURNING id",
            {
                "id": state.id,
                "key": self.key_digest(state.idempotency_key),
                "status": state.status.value,
                "created": state.created_at,
                "updated": state.updated_at,
                "payload": self._seal_state(state),
                "me": self.owner,
                "lease": self._lease,
            },
        )
        return None if row else self.find_by_key(state.idempotency_key)

    def save(self, state: ProcessState) -> None:
        """Write the state, only while this replica owns the process (else LeaseLost)."""
        order = self._sealer.digest("crm-order", state.crm_order_id) if state.crm_order_id else None
        row = self._one(
            "UPDATE order_processes SET status = %(status)s, order_digest = %(order)s,"
            " updated_at = %(updated)s, payload = %(payload)s WHERE id = %(id)s"
            " AND (owner IS NULL OR owner = %(me)s OR lease_until < now()) RETURNING id",
            {
                "status": state.status.value,
                "order": order,
                "updated": state.updated_at,
                "payload": self._seal_state(state),
                "id": state.id,
                "me": self.owner,
            },
        )
        if row is None:
            raise LeaseLost(
                f"order process {state.id} was taken over by another replica after this one's "
                "lease expired; its journal is the one that counts"
            )

    def release_key(self, process_id: str) -> None:
        self._exec("UPDATE order_processes SET key_digest = NULL WHERE id = %s", (process_id,))

    def record_step(
        self, process_id: str, step: str, phase: str, at: datetime, detail: str | None = None
    ) -> None:
        def write(conn: Conn) -> None:
            with conn.transaction():
                row = conn.execute(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM order_steps WHERE process_id = %s",
                    (process_id,),
                ).fetchone()
                seq = int(row[0]) if row else 1
                sealed = (
                    self._sealer.seal(f"step:{process_id}:{seq}", detail.encode())
                    if detail
                    else None
                )
                conn.execute(
                    "INSERT INTO order_steps (process_id, seq, step, phase, at, detail)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (process_id, seq, step, phase, at, sealed),
                )

        self._run(write)

    def load(self, process_id: str) -> ProcessState | None:
        return self._state("WHERE id = %(id)s", {"id": process_id})

    def find_by_key(self, idempotency_key: str) -> ProcessState | None:
        return self._state("WHERE key_digest = %(k)s", {"k": self.key_digest(idempotency_key)})

    def find_by_order(self, crm_order_id: str) -> ProcessState | None:
        digest = self._sealer.digest("crm-order", crm_order_id)
        return self._state(
            "WHERE order_digest = %(d)s ORDER BY created_at DESC LIMIT 1", {"d": digest}
        )

    def unfinished(self) -> list[ProcessState]:
        """Unfinished processes no live replica holds (start-up recovery takes them up)."""
        return self._states(
            f"WHERE status = ANY(%(statuses)s) AND {_FREE} ORDER BY created_at",
            {"statuses": _UNFINISHED, "me": self.owner},
        )

    def resumable(self) -> list[ProcessState]:
        """The same, every resolver pass: those of a replica that died are taken over here."""
        return self.unfinished()

    def ended_since(self, statuses: Sequence[str], since: datetime) -> list[ProcessState]:
        return self._states(
            "WHERE status = ANY(%(s)s) AND updated_at >= %(since)s ORDER BY updated_at",
            {"s": list(statuses), "since": since},
        )

    def steps(self, process_id: str) -> list[StepEntry]:
        rows = self._run(
            lambda conn: conn.execute(
                "SELECT seq, step, phase, at, detail FROM order_steps WHERE process_id = %s"
                " ORDER BY seq",
                (process_id,),
            ).fetchall()
        )
        return [
            StepEntry(step, phase, at, self._open_detail(process_id, seq, detail))
            for seq, step, phase, at, detail in rows
        ]

    @contextmanager
    def hold(self, process_id: str) -> Iterator[None]:
        """Own the process for the block: free, already ours, or its owner's lease expired."""
        with self._held_lock:
            first = self._held[process_id] == 0
            self._held[process_id] += 1
        try:
            if first:
                self._take(process_id)
            yield
        finally:
            with self._held_lock:
                self._held[process_id] -= 1
                last = self._held[process_id] <= 0
                if last:
                    del self._held[process_id]
            if last:
                self._free(process_id)

    def _take(self, process_id: str) -> None:
        row = self._one(
            "UPDATE order_processes SET owner = %(me)s, lease_until = now() + %(lease)s"
            " WHERE id = %(id)s AND (owner IS NULL OR owner = %(me)s OR lease_until < now())"
            " RETURNING id",
            {"me": self.owner, "lease": self._lease, "id": process_id},
        )
        if row is None:
            raise ProcessBusy(
                f"order process {process_id} is being run by another replica; retry shortly"
            )

    def _free(self, process_id: str) -> None:
        try:
            self._exec(
                "UPDATE order_processes SET owner = NULL, lease_until = NULL"
                " WHERE id = %s AND owner = %s",
                (process_id, self.owner),
            )
        except StateUnavailable:
            log.warning("could not free the lease of process %s; it expires by itself", process_id)

    def _renew_loop(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            with self._held_lock:
                held = list(self._held)
            if not held:
                continue
            try:
                self._exec(
                    "UPDATE order_processes SET lease_until = now() + %s"
                    " WHERE owner = %s AND id = ANY(%s)",
                    (self._lease, self.owner, held),
                )
            except StateUnavailable:
                log.warning("could not renew %d process lease(s) in PostgreSQL", len(held))

    def _state(self, where: str, params: dict[str, Any]) -> ProcessState | None:
        found = self._states(where, params)
        return found[0] if found else None

    def _states(self, where: str, params: dict[str, Any]) -> list[ProcessState]:
        query = "SELECT id, payload FROM order_processes " + where  # noqa: S608 - fixed clauses
        rows = self._run(lambda conn: conn.execute(query.encode(), params).fetchall())
        return [self._open_state(pid, bytes(blob)) for pid, blob in rows]

    def _one(self, query: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        return self._run(lambda conn: conn.execute(query.encode(), params).fetchone())

    def _exec(self, query: str, params: Sequence[Any]) -> None:
        self._run(lambda conn: conn.execute(query.encode(), params))

    def _run(self, work: Callable[[Conn], T]) -> T:
        try:
            with self._pool.connection() as conn:
                return work(conn)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise postgres_unavailable(exc) from exc

    def _seal_state(self, state: ProcessState) -> bytes:
        return self._sealer.seal(f"process:{state.id}", dump_state(state))

    def _open_state(self, process_id: str, blob: bytes) -> ProcessState:
        return load_state(self._sealer.open(f"process:{process_id}", blob))

    def _open_detail(self, process_id: str, seq: int, blob: bytes | None) -> str | None:
        if blob is None:
            return None
        return self._sealer.open(f"step:{process_id}:{seq}", bytes(blob)).decode()


def postgres_unavailable(exc: BaseException, what: str = "the order journal") -> StateUnavailable:
    return StateUnavailable(
        f"PostgreSQL ([state] postgres_url) did not answer, so {what} cannot be "
        f"read or written ({type(exc).__name__}); nothing was lost: retry once it is back"
    )
