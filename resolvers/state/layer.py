"""The state layer: one interface, embedded or shared, chosen by `[state]`.

    state = open_state(settings.state)      # EmbeddedState, or SharedState (PostgreSQL, Redis)
    journal = state.open_journal(settings.saga)
    inbox = state.shared_inbox(lease_s=60, backoff=Backoff())   # None: the SQLite file
    locks = state.locks                     # the order process's locks (resolvers.saga.locks)
    state.buckets                           # None (in-process buckets) or RedisBuckets
    bus = state.change_bus()                # ChangeBus, or RedisChangeBus across replicas
    await state.probe()                     # /readyz: StateUnavailable when a store is gone
    await state.aclose()

`open_state` checks that a shared store answers before the gateway starts (a one-line
start-up error naming the setting otherwise) and applies PostgreSQL migrations.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol

from resolvers.saga.journal import JournalStore
from resolvers.saga.locks import LocalLocks, LockProvider
from resolvers.saga.settings import SagaSettings

from .config import StateSettings

if TYPE_CHECKING:
    from resolvers.sync.bus import ChangeBus
    from resolvers.sync.inbox import Backoff, Inbox
    from resolvers.sync.redis_bus import RedisChangeBus

    from .redis_buckets import RedisBuckets


class StateLayer(Protocol):
    kind: str  # "embedded" | "shared"
    locks: LockProvider

    @property
    def buckets(self) -> RedisBuckets | None: ...

    def open_journal(self, saga: SagaSettings) -> JournalStore: ...

    def shared_inbox(self, *, lease_s: float, backoff: Backoff) -> Inbox | None:
        """The sync inbox every replica shares; None when the state is embedded."""
        ...

    def change_bus(self) -> ChangeBus:
        """The bus subscriptions hear changes on (start it at start-up, aclose at shutdown)."""
        ...

    async def probe(self) -> None:
        """Raise StateUnavailable when a store does not answer."""
        ...

    async def aclose(self) -> None: ...


class EmbeddedState:
    """In-process locks and buckets, the journal in SQLite: one process, nothing to run."""

    kind = "embedded"

    def __init__(self) -> None:
        self.locks: LockProvider = LocalLocks()

    @property
    def buckets(self) -> RedisBuckets | None:
        return None

    def open_journal(self, saga: SagaSettings) -> JournalStore:
        return saga.open_journal()

    def shared_inbox(self, *, lease_s: float, backoff: Backoff) -> Inbox | None:
        return None

    def change_bus(self) -> ChangeBus:
        from resolvers.sync.bus import ChangeBus

        return ChangeBus()

    async def probe(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


class SharedState:
    """Redis (buckets, locks) and PostgreSQL (journal, leases), shared by every replica."""

    kind = "shared"

    def __init__(self, settings: StateSettings, redis: Any, pool: Any) -> None:
        from .redis_buckets import RedisBuckets
        from .redis_locks import RedisLocks

        self.settings = settings
        self.redis = redis
        self.pool = pool
        prefix = settings.key_prefix
        self._buckets = RedisBuckets(redis, prefix=prefix)
        self.locks: LockProvider = RedisLocks(
            redis, prefix=prefix, ttl_s=settings.lock_ttl_s, wait_s=settings.lock_wait_s
        )
        self._journals: list[JournalStore] = []
        self._buses: list[RedisChangeBus] = []

    @property
    def buckets(self) -> RedisBuckets | None:
        return self._buckets

    def open_journal(self, saga: SagaSettings) -> JournalStore:
        from resolvers.saga.sealing import Sealer

        from .pg_journal import PostgresJournal

        journal = PostgresJournal(
            self.pool, Sealer.from_base64(saga.journal_key), lease_s=self.settings.lease_s
        )
        self._journals.append(journal)
        return journal

    def shared_inbox(self, *, lease_s: float, backoff: Backoff) -> Inbox | None:
        from .pg_inbox import PostgresInbox

        return PostgresInbox(self.pool, lease_s=lease_s, backoff=backoff)

    def change_bus(self) -> ChangeBus:
        """A bus whose changes reach every replica over a Redis Stream (resolvers.sync.redis_bus);
        while it is not reading it, `probe` fails."""
        from resolvers.sync.redis_bus import RedisChangeBus

        bus = RedisChangeBus(self.redis, key_prefix=self.settings.key_prefix)
        self._buses.append(bus)
        return bus

    async def probe(self) -> None:
        """PING Redis and `SELECT 1` on PostgreSQL (off the event loop), within 3 s each; the
        change buses handed out must be reading their stream."""
        from redis.exceptions import RedisError

        from .pg_journal import postgres_unavailable
        from .redis_buckets import redis_unavailable

        try:
            async with asyncio.timeout(3):
                await self.redis.ping()
        except (RedisError, TimeoutError) as exc:
            raise redis_unavailable("limits and locks", exc) from exc
        try:
            async with asyncio.timeout(3):
                await asyncio.to_thread(self._select_one)
        except TimeoutError as exc:
            raise postgres_unavailable(exc) from exc
        for bus in self._buses:
            await bus.probe()

    def _select_one(self) -> None:
        import psycopg
        from psycopg_pool import PoolTimeout

        from .pg_journal import postgres_unavailable

        try:
            with self.pool.connection(timeout=3) as conn:
                conn.execute("SELECT 1")
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise postgres_unavailable(exc) from exc

    async def aclose(self) -> None:
        for journal in self._journals:
            journal.close()
        await self.redis.aclose()
        await asyncio.to_thread(self.pool.close)


class StateStartError(Exception):
    """A shared store cannot be used at start-up; the message names the setting."""


def open_state(settings: StateSettings, *, migrate: bool = True) -> StateLayer:
    """The configured state layer; a shared one is checked (and migrated) before use."""
    if not settings.shared:
        return EmbeddedState()
    return SharedState(settings, _redis(settings), postgres_pool(settings, migrate=migrate))


def _redis(settings: StateSettings) -> Any:
    import redis
    import redis.asyncio
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import RedisError

    assert settings.redis_url is not None
    options: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 3}
    try:
        with redis.Redis.from_url(settings.redis_url, **options) as probe:
            probe.ping()
    except (RedisError, ValueError) as exc:
        raise StateStartError(
            f"state.redis_url: Redis does not answer ({type(exc).__name__}: {exc}); start it "
            "or fix CROSSDOCK_REDIS_URL / [state] redis_url"
        ) from None
    retry = redis.asyncio.retry.Retry(ExponentialBackoff(cap=0.5, base=0.05), 2)
    return redis.asyncio.Redis.from_url(
        settings.redis_url, max_connections=settings.redis_pool_size, retry=retry, **options
    )


def postgres_pool(settings: StateSettings, *, migrate: bool) -> Any:
    """A psycopg pool sized by `postgres_pool_size`, checked (and migrated) before use."""
    import psycopg
    from psycopg_pool import ConnectionPool, PoolTimeout

    from .migrations import migrate as apply_migrations

    assert settings.postgres_url is not None
    pool = ConnectionPool(
        settings.postgres_url,
        min_size=1,
        max_size=settings.postgres_pool_size,
        kwargs={"autocommit": True, "connect_timeout": 3},
        # a connection broken by a database restart is replaced, not handed to a request
        check=ConnectionPool.check_connection,
        timeout=2,  # the longest a journal call waits for a connection (STATE_UNAVAILABLE)
        open=False,
        name="crossdock-state",
    )
    try:
        pool.open(wait=True, timeout=5)
        if migrate:
            with pool.connection() as conn:
                apply_migrations(conn)
    except (psycopg.Error, PoolTimeout) as exc:
        pool.close()
        raise StateStartError(
            f"state.postgres_url: PostgreSQL cannot be used ({type(exc).__name__}: "
            f"{_first_line(exc)}); start it or fix CROSSDOCK_POSTGRES_URL / [state] postgres_url"
        ) from None
    return pool


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""
