"""The shared state layer against real Redis and PostgreSQL: buckets, locks, journal, leases.

Two layers opened on the same stores stand for two replicas (each has its own connections,
its own lock holder id and its own lease owner id).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from gateway.settings.sync import SyncSettings
from gateway.sync import open_sync
from resolvers.erpnext import ERPNext
from resolvers.saga.journal import JournalStore
from resolvers.saga.locks import LockLost
from resolvers.saga.settings import SagaSettings
from resolvers.saga.state import LineInput, OrderInput, ProcessState, ProcessStatus
from resolvers.state.config import StateSettings
from resolvers.state.errors import LeaseLost, LockBusy, ProcessBusy, StateUnavailable
from resolvers.state.layer import SharedState, StateStartError, open_state
from resolvers.state.migrations import MIGRATIONS
from resolvers.state.redis_buckets import RedisBuckets
from resolvers.sync import Change
from resolvers.sync.inbox import Inbox
from resolvers.sync.runtime import SyncRuntime
from resolvers.zoho import ZohoCRM
from tests.support.engines import RedisServer
from tests.support.stack import JOURNAL_KEY

pytestmark = pytest.mark.engines
SAGA = SagaSettings(journal_key=JOURNAL_KEY)


@pytest.fixture
async def two(state_settings: StateSettings) -> AsyncIterator[tuple[SharedState, SharedState]]:
    a, b = open_state(state_settings), open_state(state_settings)
    assert isinstance(a, SharedState)
    assert isinstance(b, SharedState)
    yield a, b
    await a.aclose()
    await b.aclose()


def _buckets(state: SharedState) -> RedisBuckets:
    assert state.buckets is not None
    return state.buckets


async def test_one_bucket_counts_once_across_replicas(two: tuple[SharedState, SharedState]) -> None:
    a, b = two
    answers = []
    for i in range(10):
        state = a if i % 2 else b
        allowed, _ = await _buckets(state).take(["subject:alice"], per_second=0.01, burst=5)
        answers.append(allowed)
    assert answers.count(True) == 5
    allowed, wait_s = await _buckets(a).take(["subject:alice"], per_second=0.01, burst=5)
    assert not allowed
    assert wait_s > 1


async def test_a_request_refused_by_one_bucket_takes_from_none(
    two: tuple[SharedState, SharedState],
) -> None:
    a, _ = two
    buckets = _buckets(a)
    assert (await buckets.take(["partner:dhl"], per_second=0.01, burst=1))[0]
    refused, _ = await buckets.take(["subject:x", "partner:dhl"], per_second=0.01, burst=1)
    assert not refused
    assert (await buckets.take(["subject:x"], per_second=0.01, burst=1))[0]  # still full


async def test_a_look_takes_nothing(two: tuple[SharedState, SharedState]) -> None:
    a, b = two
    for _ in range(3):
        assert (await _buckets(a).take(["auth:10.0.0.1"], per_second=0.01, burst=1, cost=0))[0]
    assert (await _buckets(b).take(["auth:10.0.0.1"], per_second=0.01, burst=1))[0]
    assert not (await _buckets(a).take(["auth:10.0.0.1"], per_second=0.01, burst=1, cost=0))[0]


async def test_locks_exclude_across_replicas_and_fencing_tokens_grow(
    two: tuple[SharedState, SharedState],
) -> None:
    a, b = two
    order: list[str] = []
    a_holds = asyncio.Event()

    async def first() -> int:
        async with a.locks.hold(["stock:SKU-1", "stock:SKU-2"]) as lease:
            a_holds.set()
            order.append("a in")
            await asyncio.sleep(0.3)
            order.append("a out")
            return lease.fencing_token

    async def second() -> int:
        await a_holds.wait()
        async with b.locks.hold(["stock:SKU-2"]) as lease:
            order.append("b in")
            return lease.fencing_token

    token_a, token_b = await asyncio.gather(first(), second())
    assert order == ["a in", "a out", "b in"]
    assert token_b > token_a


async def test_a_lock_held_past_the_wait_is_busy(state_settings: StateSettings) -> None:
    impatient = dataclasses.replace(state_settings, lock_wait_s=0.2)
    a, b = open_state(state_settings), open_state(impatient)
    try:
        async with a.locks.hold(["key:k1"]):
            with pytest.raises(LockBusy, match=r"lock_wait_s"):
                async with b.locks.hold(["key:k1"]):
                    pass
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_lease_taken_over_fails_its_check(two: tuple[SharedState, SharedState]) -> None:
    a, _ = two
    async with a.locks.hold(["stock:SKU-9"]) as lease:
        lease.check()
        await a.redis.set(a.settings.key_prefix + "lock:stock:SKU-9", "someone-else:999")
        for _ in range(200):  # the renewal (every ttl/3 = 1 s) notices
            try:
                lease.check()
            except LockLost:
                break
            await asyncio.sleep(0.05)
        with pytest.raises(LockLost, match="fencing token"):
            lease.check()


async def test_the_lock_of_a_holder_that_stopped_renewing_expires(
    two: tuple[SharedState, SharedState],
) -> None:
    a, b = two
    # a holder that died: its key is there, nobody renews it
    await a.redis.set(a.settings.key_prefix + "lock:stock:SKU-3", "dead:1", px=1000)
    async with b.locks.hold(["stock:SKU-3"]) as lease:
        lease.check()


def _state(key: str) -> ProcessState:
    now = datetime.now(UTC)
    order = OrderInput("C-1", (LineInput("SKU-1", Decimal(1)),))
    return ProcessState(f"p-{key}", key, "fp", order, now, now)


def test_migrations_are_applied_once_and_recorded(state_settings: StateSettings) -> None:
    for _ in range(2):
        state = open_state(state_settings)
        asyncio.run(state.aclose())
    assert state_settings.postgres_url is not None
    with psycopg.connect(state_settings.postgres_url) as conn:
        rows = conn.execute("SELECT version, name FROM crossdock_schema_version").fetchall()
    assert [row[0] for row in rows] == [m.version for m in MIGRATIONS]


async def test_one_idempotency_key_claims_one_process(two: tuple[SharedState, SharedState]) -> None:
    a, b = two
    ja, jb = a.open_journal(SAGA), b.open_journal(SAGA)
    assert ja.claim(_state("k1")) is None
    other = dataclasses.replace(_state("k1"), id="p-other")
    holder = jb.claim(other)
    assert holder is not None
    assert holder.id == "p-k1"


async def test_a_process_is_owned_by_one_replica_until_its_lease_expires(
    two: tuple[SharedState, SharedState],
) -> None:
    a, b = two
    ja, jb = a.open_journal(SAGA), b.open_journal(SAGA)
    state = _state("k2")
    assert ja.claim(state) is None
    with ja.hold(state.id):
        with pytest.raises(ProcessBusy), jb.hold(state.id):
            pass
        assert jb.resumable() == []  # live lease: not B's to take
    assert [s.id for s in jb.resumable()] == [state.id]  # freed, still RUNNING: resumable
    with jb.hold(state.id):
        with pytest.raises(ProcessBusy), ja.hold(state.id):
            pass
        jb.save(dataclasses.replace(state, status=ProcessStatus.FAILED))
    loaded = ja.load(state.id)
    assert loaded is not None
    assert loaded.status is ProcessStatus.FAILED


async def test_a_replica_that_stops_renewing_is_taken_over_and_fenced_out(
    two: tuple[SharedState, SharedState],
) -> None:
    a, b = two
    ja, jb = a.open_journal(SAGA), b.open_journal(SAGA)
    state = _state("k3")
    assert ja.claim(state) is None
    with ja.hold(state.id):
        ja.close()  # A's heartbeat stops, as if A hung or died
        taken = await _poll(lambda: jb.resumable())
        assert [s.id for s in taken] == [state.id]
        with jb.hold(state.id), pytest.raises(LeaseLost, match="taken over"):
            ja.save(dataclasses.replace(state, status=ProcessStatus.FAILED))


async def _poll(read: object, timeout_s: float = 30.0) -> list[ProcessState]:
    assert callable(read)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        found: list[ProcessState] = read()
        if found or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.1)


async def test_redis_gone_is_a_clear_error_and_a_readiness_failure_until_it_is_back(
    state_settings: StateSettings,
) -> None:
    with RedisServer.start() as own:
        settings = dataclasses.replace(state_settings, redis_url=own.url)
        state = open_state(settings)
        assert isinstance(state, SharedState)
        try:
            await state.probe()
            own.stop()
            with pytest.raises(StateUnavailable, match=r"Redis \(\[state\] redis_url\)"):
                await _buckets(state).take(["subject:a"], per_second=1, burst=1)
            with pytest.raises(StateUnavailable):
                await state.probe()
            own.run()
            await state.probe()
            assert (await _buckets(state).take(["subject:a"], per_second=1, burst=1))[0]
        finally:
            await state.aclose()


def test_an_unreachable_store_at_start_names_the_setting(state_settings: StateSettings) -> None:
    from tests.support.engines import free_port

    dead = dataclasses.replace(state_settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StateStartError, match=r"state\.redis_url: Redis does not answer"):
        open_state(dead)
    dead = dataclasses.replace(
        state_settings, postgres_url=f"postgresql://x@127.0.0.1:{free_port()}/x"
    )
    with pytest.raises(StateStartError, match=r"state\.postgres_url: PostgreSQL cannot be used"):
        open_state(dead)


def test_the_journal_type_is_what_the_order_process_takes(state_settings: StateSettings) -> None:
    state = open_state(state_settings)
    journal: JournalStore = state.open_journal(SAGA)
    assert journal.unfinished() == []
    asyncio.run(state.aclose())


async def test_with_shared_state_the_sync_inbox_is_one_for_every_replica(
    two: tuple[SharedState, SharedState], tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    """[sync] over shared state keeps its inbox in PostgreSQL: a change put through one
    replica's runtime is claimed by the other's, and no SQLite file is made."""
    settings = SyncSettings(enabled=True, inbox_path=str(tmp_path / "never.sqlite"))
    a, b = (inbox_of(open_sync(settings, crm, scm, None, None, state)) for state in two)
    now = datetime.now(UTC)
    hint = Change("crm", "account", "A1", "update", "notification", now, version=now)
    assert await a.put(hint) is True
    assert await b.put(hint) is False  # the same change, heard by the other replica
    [item] = await b.claim("replica-b")
    assert item.change.record_id == "A1"
    assert not (tmp_path / "never.sqlite").exists()


def inbox_of(runtime: SyncRuntime | None) -> Inbox:
    assert runtime is not None
    return runtime.inbox
