"""Reconciliation across gateway replicas: separate `crossdock serve` processes sharing
PostgreSQL and Redis, with a schedule of a run every 2 s.

One run per interval across the replicas (distinct slots, whole intervals apart); the
findings of a run made by replica A are read through A and B alike, and repaired through B;
a replica SIGKILLed mid-run does not block the schedule: another takes the same slot over
once its lease (`[state] lease_s` = 3 s) expired.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from gateway.auth.tokens import mint
from gateway.cli import main
from resolvers.state.config import StateSettings
from tests.scaleout.replicas import Emulations, Replica, write_config
from tests.support.engines import PostgresServer, RedisServer
from tests.support.stack import JOURNAL_KEY, JWT_SECRET

pytestmark = [pytest.mark.engines, pytest.mark.sockets]
EVERY_S = 2.0
SCHEDULE = '[reconcile]\nevery = "2s"\n'
FINDINGS = (
    "{ reconciliationRun { id } reconciliationFindings(first: 50) { nodes { id category } } }"
)
REPAIR = """mutation($id: ID!) {
  repairFinding(id: $id, dryRun: false) { status journalId message } }"""
_names = itertools.count(1)


@pytest.fixture(scope="module")
def world(
    engines: tuple[PostgresServer, RedisServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Emulations, Path, PostgresServer, RedisServer]]:
    root = tmp_path_factory.mktemp("reconcile-replicas")
    with Emulations.start(root, scale=0.1) as emulations:
        yield emulations, write_config(root, emulations, SCHEDULE), *engines


def _state(pg: PostgresServer, redis: RedisServer, db: int) -> StateSettings:
    return StateSettings(
        postgres_url=pg.create_database(f"reconcile_replicas_{next(_names)}"),
        redis_url=redis.url.replace("/0", f"/{db}"),  # a Redis database of its own
    )


def _sql(state: StateSettings, query: str, *params: Any) -> list[tuple[Any, ...]]:
    assert state.postgres_url is not None
    with psycopg.connect(state.postgres_url, autocommit=True) as conn:
        cursor = conn.execute(query.encode(), params)
        return cursor.fetchall() if cursor.description else []


def _finished(state: StateSettings) -> list[tuple[int, datetime, str]]:
    """Finished scheduled runs: id, slot, owner, in slot order."""
    rows = _sql(
        state,
        "SELECT id, slot, owner FROM reconcile_runs WHERE trigger = 'schedule'"
        " AND finished_at IS NOT NULL ORDER BY slot",
    )
    return [(int(r[0]), r[1], str(r[2])) for r in rows]


async def _until(condition: Callable[[], bool], what: str, timeout_s: float = 120.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:g} s")
        await asyncio.sleep(0.1)


def _client(subject: str) -> httpx.AsyncClient:
    token = mint(JWT_SECRET, subject=subject, roles=["data_steward"])
    headers = {"Authorization": f"Bearer {token}", "x-crossdock-csrf": "1"}
    return httpx.AsyncClient(headers=headers, timeout=120.0)


async def _gql(http: httpx.AsyncClient, url: str, query: str, **variables: Any) -> dict[str, Any]:
    reply = await http.post(url + "/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = reply.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_one_run_per_interval_findings_read_and_repaired_through_either_replica(
    world: tuple[Emulations, Path, PostgresServer, RedisServer],
) -> None:
    _, config, pg, redis = world
    state = _state(pg, redis, 2)
    with Replica.start(config, state, name="recon-a") as a:
        await _until(lambda: len(_finished(state)) >= 1, "A's first scheduled run")
        (first_id, _, _) = _finished(state)[0]
        by_a = {
            r[0]
            for r in _sql(state, "SELECT id FROM reconcile_findings WHERE run_id = %s", first_id)
        }
        with Replica.start(config, state, name="recon-b") as b:
            async with _client("steward-a") as on_a, _client("steward-b") as on_b:
                seen = await _same_run(on_a, a.url, on_b, b.url)
                nodes = seen["reconciliationFindings"]["nodes"]
                found = {n["category"]: n["id"] for n in nodes}
                assert "product_without_item" in found, nodes
                target = found["product_without_item"]
                assert target in by_a  # the finding A's first run found, read through B

                repaired = (await _gql(on_b, b.url, REPAIR, id=target))["repairFinding"]
                assert repaired["status"] == "APPLIED", repaired
                journal = _sql(
                    state,
                    "SELECT actor, status, finding_id FROM reconcile_repairs WHERE id = %s",
                    int(repaired["journalId"]),
                )
                assert journal == [("graphql:steward-b", "applied", target)]

                after = _sql(state, "SELECT now()")[0][0]
                await _until(
                    lambda: _runs_started_after(state, after) >= 2, "two runs after the repair"
                )
                latest = await _gql(on_a, a.url, FINDINGS)
                ids = {n["id"] for n in latest["reconciliationFindings"]["nodes"]}
                assert target not in ids  # repaired through B, gone in the runs since
    runs = _finished(state)
    _assert_one_per_slot([slot for _, slot, _ in runs])


async def _same_run(
    on_a: httpx.AsyncClient, a_url: str, on_b: httpx.AsyncClient, b_url: str
) -> dict[str, Any]:
    """The last run and its findings as A and B show them, asked until both answered between
    two runs (a run every 2 s may end between the two questions)."""
    for _ in range(20):
        seen_a = await _gql(on_a, a_url, FINDINGS)
        seen_b = await _gql(on_b, b_url, FINDINGS)
        if seen_a["reconciliationRun"] == seen_b["reconciliationRun"]:
            assert seen_a == seen_b  # the same run: the same findings through both
            return seen_b
    raise AssertionError("A and B never showed the same last run")


def _runs_started_after(state: StateSettings, after: datetime) -> int:
    rows = _sql(
        state,
        "SELECT count(*) FROM reconcile_runs WHERE trigger = 'schedule'"
        " AND finished_at IS NOT NULL AND started_at > %s",
        after,
    )
    return int(rows[0][0])


def _assert_one_per_slot(slots: list[datetime]) -> None:
    """Each interval ran once: distinct slots, whole intervals apart."""
    assert len(slots) >= 3, slots
    assert len(set(slots)) == len(slots), slots
    for earlier, later in itertools.pairwise(slots):
        gap = (later - earlier) / timedelta(seconds=EVERY_S)
        assert gap >= 1, (earlier, later)
        assert abs(gap - round(gap)) < 1e-6, (earlier, later)


async def test_a_replica_killed_mid_run_does_not_block_the_schedule(
    world: tuple[Emulations, Path, PostgresServer, RedisServer],
) -> None:
    emulations, config, pg, redis = world
    state = _state(pg, redis, 3)
    faults = emulations.zoho_url + "/_emulator/faults"
    async with httpx.AsyncClient() as knobs:
        with Replica.start(config, state, name="recon-victim") as victim:
            slow = await knobs.post(faults, json={"latency_ms": 1000})  # runs take long
            slow.raise_for_status()
            try:
                await _until(lambda: bool(_unfinished(state)), "the victim's run under way")
                victim.kill()  # mid-run: its turn is neither finished nor given back
            finally:
                (await knobs.post(faults, json={"latency_ms": 0})).raise_for_status()
    ((slot, victim_owner),) = _unfinished(state)
    with Replica.start(config, state, name="recon-survivor"):
        await _until(lambda: any(s == slot for _, s, _ in _finished(state)), "the slot taken over")
    (taken,) = [r for r in _finished(state) if r[1] == slot]
    assert taken[2] != victim_owner
    assert _unfinished(state) == [(slot, victim_owner)]  # the dead run is never shown as done


def _unfinished(state: StateSettings) -> list[tuple[datetime, str]]:
    rows = _sql(
        state,
        "SELECT slot, owner FROM reconcile_runs WHERE trigger = 'schedule' AND finished_at IS NULL",
    )
    return [(r[0], str(r[1])) for r in rows]


def test_crossdock_reconcile_stores_its_run_where_the_replicas_read_it(
    world: tuple[Emulations, Path, PostgresServer, RedisServer],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulations, config, pg, redis = world
    state = _state(pg, redis, 6)
    assert state.postgres_url is not None
    assert state.redis_url is not None
    plain = write_config(config.parent, emulations, name="cli.toml")  # no schedule
    monkeypatch.setenv("CROSSDOCK_POSTGRES_URL", state.postgres_url)
    monkeypatch.setenv("CROSSDOCK_REDIS_URL", state.redis_url)
    monkeypatch.setenv("CROSSDOCK_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("CROSSDOCK_JOURNAL_KEY", JOURNAL_KEY)

    status = main(["reconcile", "--config", str(plain), "--json"])

    printed = json.loads(capsys.readouterr().out)
    assert status == 1, printed  # findings of severity error remain
    runs = _sql(state, "SELECT id, trigger, finished_at IS NOT NULL FROM reconcile_runs")
    assert [(trigger, done) for _, trigger, done in runs] == [("cli", True)]
    with Replica.start(plain, state, name="recon-reader") as reader:
        token = mint(JWT_SECRET, subject="steward-cli", roles=["data_steward"])
        headers = {"Authorization": f"Bearer {token}", "x-crossdock-csrf": "1"}
        reply = httpx.post(
            reader.url + "/graphql",
            json={"query": "{ reconciliationRun { id trigger findings } }"},
            headers=headers,
            timeout=60.0,
        )
    run = reply.json()["data"]["reconciliationRun"]
    assert run == {"id": str(runs[0][0]), "trigger": "cli", "findings": len(printed["findings"])}
