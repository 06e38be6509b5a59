"""The sync inbox in PostgreSQL, shared by every replica (`[state] postgres_url`).

    inbox = PostgresInbox(pool, lease_s=60, backoff=Backoff())   # an Inbox, like SqliteInbox

The same tables, statements and guarantees as the SQLite inbox (resolvers.sync.inbox; the
tables come from migration 2). What SQLite gets from its one write lock, PostgreSQL gets from
transaction-scoped advisory locks: claims take one lock, so two replicas never hand out the
same key's changes at once; a put takes its key's lock, so two replicas receiving the same
unversioned hint store it once. Each call is one short transaction on a pooled connection,
run off the event loop. An unreachable database is StateUnavailable, naming the setting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from resolvers.sync.inbox import Backoff, Clock, Cursor, Execute, SqlInbox

from .pg_journal import postgres_unavailable

T = TypeVar("T")
Conn = psycopg.Connection[tuple[Any, ...]]


class PostgresStore:
    """`InboxStore` over a psycopg connection pool (shared with the order journal)."""

    def __init__(self, pool: ConnectionPool[Conn]) -> None:
        self._pool = pool

    async def run(self, work: Callable[[Execute], T], *, lock: str | None = None) -> T:
        return await asyncio.to_thread(self._run, work, lock)

    def _run(self, work: Callable[[Execute], T], lock: str | None) -> T:
        try:
            with self._pool.connection() as conn, conn.transaction():
                cursor = conn.cursor(row_factory=dict_row)

                def execute(sql: str, params: Sequence[object]) -> Cursor:
                    cursor.execute(sql.replace("?", "%s").encode(), tuple(params))
                    return cursor

                if lock is not None:
                    execute("SELECT pg_advisory_xact_lock(hashtext(?))", ("sync:" + lock,))
                return work(execute)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise postgres_unavailable(exc, "the sync inbox") from exc

    def close(self) -> None:
        """The pool belongs to the state layer, which closes it."""


class PostgresInbox(SqlInbox):
    """The sync inbox of every replica, in one PostgreSQL database."""

    def __init__(
        self,
        pool: ConnectionPool[Conn],
        *,
        lease_s: float = 60.0,
        backoff: Backoff | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(PostgresStore(pool), lease_s=lease_s, backoff=backoff, clock=clock)
