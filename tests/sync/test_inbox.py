"""The durable inbox, over a real SQLite file and over a real PostgreSQL database (the shared
store of several replicas; marker `engines`): idempotent put, per-key order, leases, backoff,
dead letters, retry and replay, and what survives reopening the store."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from resolvers.state.config import StateSettings
from resolvers.state.layer import postgres_pool
from resolvers.state.pg_inbox import PostgresStore
from resolvers.sync import Change
from resolvers.sync.inbox import Backoff, InboxStore, SqlInbox, SqliteInbox, SqliteStore
from tests.support.engines import PostgresServer

START = datetime.now(UTC).replace(microsecond=0)
_databases = itertools.count(1)


class Clock:
    """Seconds since the epoch, moved by hand."""

    def __init__(self) -> None:
        self.now = START.timestamp()

    def __call__(self) -> float:
        return self.now


def change(record_id: str = "A1", minutes: int | None = 0, **fields: object) -> Change:
    return Change(
        system="crm",
        entity="account",
        record_id=record_id,
        operation="update",
        origin="notification",
        received_at=START,
        version=None if minutes is None else START + timedelta(minutes=minutes),
        fields=fields,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


Opener = Callable[..., SqlInbox]  # a new inbox over the test's one store (kwargs: backoff)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.engines)])
def open_inbox(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Opener]:
    """Inboxes over one SQLite file, or over one fresh PostgreSQL database (migrated)."""
    opened: list[SqlInbox] = []
    pool = None
    if request.param == "sqlite":

        def store() -> InboxStore:
            return SqliteStore(tmp_path / "sync.sqlite")

    else:
        postgres: PostgresServer = request.getfixturevalue("postgres")
        url = postgres.create_database(f"inbox_{next(_databases)}_{os.getpid()}")
        pool = postgres_pool(StateSettings(postgres_url=url), migrate=True)

        def store() -> InboxStore:
            return PostgresStore(pool)

    def opener(**options: Any) -> SqlInbox:
        inbox = SqlInbox(store(), lease_s=30, clock=clock, **options)
        opened.append(inbox)
        return inbox

    yield opener
    for inbox in opened:
        inbox.close()
    if pool is not None:
        pool.close()


@pytest.fixture
def inbox(open_inbox: Opener) -> SqlInbox:
    return open_inbox(backoff=Backoff(2, 10))


async def test_a_change_is_stored_once_per_key_and_version(inbox: SqlInbox) -> None:
    assert await inbox.put(change(minutes=1)) is True
    assert await inbox.put(change(minutes=1)) is False  # the same notification, delivered twice
    assert await inbox.put(change(minutes=2)) is True  # a later version of the same record
    assert await inbox.put(change("B2", minutes=1)) is True  # another record
    assert (await inbox.status()).sources[0].pending == 3


async def test_unversioned_hints_of_one_key_wait_as_one(inbox: SqlInbox) -> None:
    assert await inbox.put(change(minutes=None)) is True
    assert await inbox.put(change(minutes=None)) is False
    [item] = await inbox.claim("w")
    await inbox.done(item, "w", outcome="ok")
    assert await inbox.put(change(minutes=None)) is True  # a new edit after the first was done


async def test_changes_of_one_key_are_claimed_one_at_a_time_in_version_order(
    inbox: SqlInbox,
) -> None:
    for minutes in (3, 1, 2):  # arrived out of order
        await inbox.put(change(minutes=minutes))
    await inbox.put(change("B2", minutes=9))
    seen = []
    while batch := await inbox.claim("w", limit=10):
        assert len({item.change.key for item in batch}) == len(batch)  # never two of one key
        for item in batch:
            seen.append((item.change.record_id, item.change.version))
            await inbox.done(item, "w", outcome="ok")
    versions = [v for r, v in seen if r == "A1"]
    assert versions == sorted(versions)
    assert len(versions) == 3
    assert ("B2", START + timedelta(minutes=9)) in seen


async def test_a_late_earlier_version_waits_while_a_later_one_is_claimed(
    inbox: SqlInbox,
) -> None:
    await inbox.put(change(minutes=2))
    [claimed] = await inbox.claim("w")
    await inbox.put(change(minutes=1))  # arrives while version 2 is being applied
    assert await inbox.claim("other") == []
    await inbox.done(claimed, "w", outcome="ok")
    [late] = await inbox.claim("w")
    assert late.change.version == START + timedelta(minutes=1)


async def test_a_failing_change_is_retried_after_backoff_then_parked_with_its_reason(
    inbox: SqlInbox, clock: Clock
) -> None:
    await inbox.put(change())
    [item] = await inbox.claim("w")
    assert await inbox.failed(item, "w", "ERPNext returned 503") is False
    assert await inbox.claim("w") == []  # waits for its retry
    [failed] = (await inbox.status()).failed
    assert (failed.state, failed.reason) == ("retry", "ERPNext returned 503")
    clock.now += 10
    [item] = await inbox.claim("w")
    assert item.attempts == 2
    assert await inbox.failed(item, "w", "ERPNext returned 503 again") is True
    clock.now += 3600
    assert await inbox.claim("w") == []
    status = await inbox.status()
    assert [(f.state, f.reason) for f in status.failed] == [("dead", "ERPNext returned 503 again")]
    assert status.sources[0].dead == 1


async def test_a_dead_change_does_not_block_later_changes_of_its_key(
    inbox: SqlInbox,
) -> None:
    await inbox.put(change(minutes=1))
    for _ in range(3):
        [item] = await inbox.claim("w")
        inbox.backoff = Backoff(3, 0)
        await inbox.failed(item, "w", "broken")
    await inbox.put(change(minutes=2))
    [item] = await inbox.claim("w")
    assert item.change.version == START + timedelta(minutes=2)


async def test_retry_puts_one_or_every_failed_change_back(inbox: SqlInbox) -> None:
    for record in ("A1", "B2"):
        await inbox.put(change(record))
    for item in await inbox.claim("w"):
        await inbox.failed(item, "w", "down")
    first = (await inbox.status()).failed[0]
    assert await inbox.retry(first.id) == 1
    [item] = await inbox.claim("w")
    assert item.id == first.id
    assert await inbox.retry() == 1  # the other one
    assert len(await inbox.claim("w")) == 1


async def test_replay_applies_done_changes_again_marked_forced(inbox: SqlInbox) -> None:
    await inbox.put(change())
    [item] = await inbox.claim("w")
    await inbox.done(item, "w", outcome="ok")
    assert await inbox.replay(since=START - timedelta(minutes=1)) == 1
    [again] = await inbox.claim("w")
    assert (again.id, again.forced) == (item.id, True)


async def test_a_claim_by_a_process_that_died_is_taken_over_after_its_lease(
    open_inbox: Opener, clock: Clock
) -> None:
    first = open_inbox()
    await first.put(change())
    [item] = await first.claim("dead-worker")
    first.close()  # the process dies before marking the item done
    second = open_inbox()
    assert await second.claim("new-worker") == []  # the lease still runs
    clock.now += 31
    [again] = await second.claim("new-worker")
    assert again.id == item.id
    assert again.attempts == 2
    assert await second.done(item, "dead-worker", outcome="late") is False  # lease lost
    assert await second.done(again, "new-worker", outcome="ok") is True


async def test_versions_applied_and_written_only_move_forward(inbox: SqlInbox) -> None:
    key = "crm:account:A1"
    later, earlier = START + timedelta(minutes=5), START + timedelta(minutes=1)
    await inbox.mark_applied(key, later)
    await inbox.mark_applied(key, earlier)
    assert await inbox.applied(key) == later
    await inbox.mark_written(key, later, "f2")
    await inbox.mark_written(key, earlier, "f1")
    mark = await inbox.written(key)
    assert mark is not None
    assert (mark.version, mark.fingerprint) == (later, "f2")
    assert await inbox.applied("crm:account:other") is None


async def test_the_inbox_keeps_no_record_values(tmp_path: Path) -> None:
    inbox = SqliteInbox(tmp_path / "sync.sqlite")
    await inbox.put(change(Billing_City="Secret Town"))
    [item] = await inbox.claim("w")
    assert dict(item.change.fields) == {"Billing_City": None}
    inbox.close()
    assert b"Secret Town" not in (tmp_path / "sync.sqlite").read_bytes()


async def test_status_reports_lag_per_source_and_watermarks(inbox: SqlInbox, clock: Clock) -> None:
    await inbox.put(change())
    clock.now += 42
    await inbox.set_watermark("crm:Accounts", "2026-01-01T00:00:00+00:00")
    await inbox.set_watermark("crm:Accounts", "2025-01-01T00:00:00+00:00")  # never backwards
    status = await inbox.status()
    crm, erp = status.sources
    assert (crm.system, crm.pending, crm.lag_s) == ("crm", 1, 42)
    assert (erp.system, erp.pending, erp.lag_s) == ("erp", 0, 0)
    assert status.watermarks == {"crm:Accounts": "2026-01-01T00:00:00+00:00"}
    assert await inbox.watermark("crm:Accounts") == "2026-01-01T00:00:00+00:00"


async def test_two_workers_claiming_at_once_never_hold_one_key_together(
    open_inbox: Opener,
) -> None:
    """Two replicas' processors over one store: every change applied once, and a key's
    changes one at a time, in version order."""
    first, second = open_inbox(), open_inbox()
    for minutes in range(5):
        for record in range(8):
            await first.put(change(f"R{record}", minutes=minutes))
    held: dict[str, str] = {}
    applied: list[tuple[str, int]] = []

    async def work(inbox: SqlInbox, owner: str) -> None:
        while items := await inbox.claim(owner, limit=3):
            for item in items:
                record = item.change.record_id
                assert record not in held, f"{record} held by {held.get(record)} and {owner}"
                held[record] = owner
            await asyncio.sleep(0)  # the other worker claims meanwhile
            for item in items:
                del held[item.change.record_id]
                version = item.change.version
                assert version is not None
                applied.append((item.change.record_id, int((version - START).total_seconds())))
                assert await inbox.done(item, owner, outcome="ok")

    await asyncio.gather(work(first, "a"), work(second, "b"))
    assert sorted(applied) == sorted((f"R{r}", m * 60) for r in range(8) for m in range(5))
    for record in range(8):
        order = [m for r, m in applied if r == f"R{record}"]
        assert order == sorted(order)
