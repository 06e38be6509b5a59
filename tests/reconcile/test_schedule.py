"""`[reconcile]` settings and the schedule that runs reconciliation in the gateway."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.settings import SettingsError
from gateway.settings.reconcile import parse_reconcile
from resolvers.reconcile.service import ReconcileService, Schedule
from resolvers.reconcile.store import ReconcileStore
from tests.support.reconcile import Rig


@pytest.mark.parametrize(
    ("every", "seconds"),
    [("1h", 3600.0), ("15m", 900.0), ("0", 0.0), ("off", 0.0)],  # "0"/"off": no schedule
)
def test_every_is_a_duration_or_off(every: str, seconds: float) -> None:
    assert parse_reconcile({"every": every}, {}).every_s == seconds


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"every": "hourly"}, "reconcile.every 'hourly' is not a duration; use e.g. \"90s\""),
        ({"draft_max_age": "0"}, "reconcile.draft_max_age '0' is not a duration"),
        ({"page_size": 5000}, "reconcile.page_size must be at most 500"),
        ({"evry": "1h"}, "evry"),  # a typo is an error, never ignored
    ],
)
def test_bad_reconcile_settings_name_the_key(table: dict[str, object], says: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_reconcile(table, {})
    assert says in str(caught.value)


def test_the_store_path_comes_from_the_environment_first() -> None:
    found = parse_reconcile({"store_path": "a.sqlite"}, {"CROSSDOCK_RECONCILE_PATH": "b.sqlite"})
    assert found.store_path == "b.sqlite"


async def test_the_schedule_runs_and_stores_runs_until_stopped(rig: Rig, tmp_path: Path) -> None:
    store = ReconcileStore(tmp_path / "scheduled.sqlite")
    service = ReconcileService(rig.reconciler(), store)
    schedule = Schedule(service, every_s=0.01)
    schedule.start()
    try:
        async with asyncio.timeout(60):
            await schedule.next_run()
            await schedule.next_run()
    finally:
        await schedule.stop()
    record = store.last_run()
    assert record is not None
    assert record.trigger == "schedule"
    assert record.count("severity") == 3
    assert rig.writes() == 0
    store.close()


async def test_a_scheduled_run_skips_its_turn_while_another_runs(rig: Rig, tmp_path: Path) -> None:
    store = ReconcileStore(tmp_path / "busy.sqlite")
    service = ReconcileService(rig.reconciler(), store)
    schedule = Schedule(service, every_s=3600)
    started = asyncio.Event()
    manual = asyncio.create_task(service.run(trigger="cli", progress=lambda *_: started.set()))
    await started.wait()
    assert service.running
    await schedule.run_once()
    await manual
    assert schedule.runs == 0
    last = store.last_run()
    assert last is not None
    assert last.trigger == "cli"
    store.close()
