"""Reconciliation on shared state (real PostgreSQL and Redis): runs and findings stored by
one replica are read by another, and the schedule runs once per interval across replicas.

Two state layers opened on the same stores stand for two replicas; the reconciler reads the
seeded emulations of tests/conftest.py (read only: nothing here repairs).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from resolvers.erpnext import ERPNext
from resolvers.ports import CrmPort
from resolvers.reconcile import Reconciler
from resolvers.reconcile.service import ReconcileService, Schedule, Turn
from resolvers.saga.sealing import Sealer
from resolvers.state.config import StateSettings
from resolvers.state.errors import StateUnavailable
from resolvers.state.layer import SharedState, open_state
from resolvers.state.pg_reconcile import PostgresReconcileStore, PostgresTurns
from tests.support.engines import PostgresServer, RedisServer
from tests.support.stack import JOURNAL_KEY

pytestmark = pytest.mark.engines
EVERY_S = 3600.0


@pytest.fixture
async def two(state_settings: StateSettings) -> AsyncIterator[tuple[SharedState, SharedState]]:
    a, b = open_state(state_settings), open_state(state_settings)
    assert isinstance(a, SharedState)
    assert isinstance(b, SharedState)
    yield a, b
    await a.aclose()
    await b.aclose()


def _store(state: SharedState) -> PostgresReconcileStore:
    return PostgresReconcileStore(state.pool, Sealer.from_base64(JOURNAL_KEY))


def _sql(settings: StateSettings, query: str, *params: Any) -> list[tuple[Any, ...]]:
    assert settings.postgres_url is not None
    with psycopg.connect(settings.postgres_url, autocommit=True) as conn:
        cursor = conn.execute(query.encode(), params)
        return cursor.fetchall() if cursor.description else []


async def test_a_run_stored_by_one_replica_is_read_by_another(
    two: tuple[SharedState, SharedState],
    state_settings: StateSettings,
    crm: CrmPort,
    scm: ERPNext,
) -> None:
    a, b = two
    record = await ReconcileService(Reconciler(crm, scm), _store(a)).run(trigger="cli")
    other = _store(b)

    last = other.last_run()
    assert last is not None
    assert last.id == record.id
    assert last.count("severity") == record.count("severity") == 3  # the seeded mismatches
    found = other.findings(record.id)
    assert len(found) == other.count_findings(record.id) == 3
    assert other.finding(record.id, found[0].id) == found[0]
    blobs = _sql(state_settings, "SELECT payload FROM reconcile_findings")
    assert all(b"SKU" not in bytes(blob) for (blob,) in blobs)  # sealed at rest


async def _due_now(turns: PostgresTurns, settings: StateSettings) -> None:
    assert isinstance(await turns.take(), float)  # the first turn comes one interval later
    _sql(settings, "UPDATE reconcile_schedule SET next_due = now() - interval '1 second'")


async def test_one_turn_per_interval_among_replicas(
    two: tuple[SharedState, SharedState], state_settings: StateSettings
) -> None:
    a, b = (PostgresTurns(s.pool, every_s=EVERY_S, lease_s=30) for s in two)
    await _due_now(a, state_settings)

    got = await asyncio.gather(a.take(), b.take(), a.take(), b.take())
    turns = [t for t in got if not isinstance(t, float)]
    assert len(turns) == 1, got
    winner = a if got.index(turns[0]) % 2 == 0 else b
    await winner.finish(turns[0])

    (due,) = _sql(state_settings, "SELECT next_due, owner FROM reconcile_schedule")
    assert due == (turns[0].slot + timedelta(seconds=EVERY_S), None)
    assert all(isinstance(t, float) for t in await asyncio.gather(a.take(), b.take()))


async def test_a_turn_whose_owner_died_is_taken_over_and_the_old_owner_fenced_out(
    two: tuple[SharedState, SharedState], state_settings: StateSettings
) -> None:
    dead, live = (PostgresTurns(s.pool, every_s=EVERY_S, lease_s=1.0) for s in two)
    await _due_now(dead, state_settings)
    first = await dead.take()
    assert not isinstance(first, float)  # ... and then it stops renewing, as a killed replica

    second = await _turn_eventually(live)

    assert second.slot == first.slot  # the same interval, run again by the live replica
    assert second.fence > first.fence
    assert not await dead.renew(first)
    await dead.finish(first)  # a late finish of the dead owner changes nothing
    (row,) = _sql(state_settings, "SELECT next_due, owner FROM reconcile_schedule")
    assert row == (first.slot, live.owner)
    await live.finish(second)
    (row,) = _sql(state_settings, "SELECT next_due, owner FROM reconcile_schedule")
    assert row == (first.slot + timedelta(seconds=EVERY_S), None)


async def _turn_eventually(turns: PostgresTurns, timeout_s: float = 30.0) -> Turn:
    async with asyncio.timeout(timeout_s):
        while True:
            got = await turns.take()
            if not isinstance(got, float):
                return got
            await asyncio.sleep(got)


async def test_two_replicas_schedules_run_once_per_interval(
    two: tuple[SharedState, SharedState],
    state_settings: StateSettings,
    crm: CrmPort,
    scm: ERPNext,
) -> None:
    every_s = 1.0
    schedules = [
        Schedule(
            ReconcileService(Reconciler(crm, scm), _store(s)),
            every_s=every_s,
            turns=PostgresTurns(s.pool, every_s=every_s, lease_s=3.0),
        )
        for s in two
    ]
    for schedule in schedules:
        schedule.start()
    try:
        await _until(lambda: sum(s.runs for s in schedules) >= 4)
    finally:
        for schedule in schedules:
            await schedule.stop()

    rows = _sql(
        state_settings,
        "SELECT slot, finished_at FROM reconcile_runs WHERE trigger = 'schedule' ORDER BY slot",
    )
    finished = [slot for slot, done in rows if done is not None]
    assert len(finished) == sum(s.runs for s in schedules)
    _assert_one_per_slot(finished, every_s)
    # stopped mid-run, a run stays unfinished; its slot stays due for the next replica
    assert len(rows) - len(finished) <= 1


def _assert_one_per_slot(slots: list[datetime], every_s: float) -> None:
    """Each interval ran once: distinct slots, whole intervals apart (a run longer than the
    interval skips the slots it overran, it never runs two at once)."""
    assert len(set(slots)) == len(slots), slots
    for earlier, later in itertools.pairwise(slots):
        gap = (later - earlier) / timedelta(seconds=every_s)
        assert gap >= 1, (earlier, later)
        assert abs(gap - round(gap)) < 1e-6, (earlier, later)


async def _until(condition: Callable[[], bool], timeout_s: float = 90.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


async def test_the_schedule_outlives_a_postgresql_restart(
    redis_server: RedisServer, crm: CrmPort, scm: ERPNext, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL gone: asking whose turn it is fails (logged, readiness fails through the
    state probe) and the schedule asks again; once it is back, runs come again."""
    with PostgresServer.start() as pg:
        settings = StateSettings(
            postgres_url=pg.create_database("schedule_outage"),
            redis_url=redis_server.url,
            lease_s=3.0,
        )
        state = open_state(settings)
        assert isinstance(state, SharedState)
        caplog.set_level(logging.WARNING, logger="crossdock.reconcile")
        schedule = Schedule(
            ReconcileService(Reconciler(crm, scm), _store(state)),
            every_s=0.5,
            turns=PostgresTurns(state.pool, every_s=0.5, lease_s=3.0),
        )
        schedule.start()
        try:
            await _until(lambda: schedule.runs >= 1)
            pg.stop()
            with pytest.raises(StateUnavailable):
                await state.probe()
            await _until(lambda: "reconciliation schedule: " in caplog.text)  # it noticed
            runs = schedule.runs
            pg.run()
            await _until(lambda: schedule.runs >= runs + 2)
        finally:
            await schedule.stop()
            await state.aclose()
