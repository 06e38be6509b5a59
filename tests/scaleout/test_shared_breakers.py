"""Circuit breakers whose openings are shared through a real Redis (`[state] share_breakers`).

Unit level: two breakers with their own syncs and Redis clients stand for two processes.
Process level: two `crossdock serve` replicas over the emulations; the ERP is down, replica A
finds it out, replica B fails fast without calling it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import redis.asyncio

from gateway.auth.tokens import mint
from gateway.settings import SettingsError
from gateway.settings.state import parse_state
from resolvers.breaker import CircuitBreaker
from resolvers.errors import BackendUnavailable
from resolvers.state.config import StateSettings
from resolvers.state.redis_breakers import BreakerSync
from tests.scaleout.replicas import Emulations, Replica, write_config
from tests.support.engines import PostgresServer, RedisServer
from tests.support.stack import JWT_SECRET

pytestmark = pytest.mark.engines
PREFIX = "breakers-test:"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def two(
    redis_server: RedisServer,
) -> AsyncIterator[list[tuple[CircuitBreaker, BreakerSync, Clock]]]:
    made = []
    clients = []
    for _ in range(2):
        clock = Clock()
        breaker = CircuitBreaker("scm", failure_threshold=3, cooldown_s=30, clock=clock)
        client = redis.asyncio.Redis.from_url(redis_server.url)
        clients.append(client)
        made.append((breaker, BreakerSync(client, prefix=PREFIX, breakers={"scm": breaker}), clock))
    yield made
    for client in clients:
        await client.aclose()


def _trip(breaker: CircuitBreaker) -> None:
    for _ in range(breaker.failure_threshold):
        breaker.before_call()
        breaker.record(success=False)


async def test_an_opening_in_one_process_opens_the_other(
    two: list[tuple[CircuitBreaker, BreakerSync, Clock]],
) -> None:
    (a, a_sync, _), (b, b_sync, _) = two
    await b_sync.sync_once()
    assert b.state == "closed"

    _trip(a)
    assert a.state == "open"
    await a_sync.sync_once()  # publishes A's opening
    await b_sync.sync_once()  # B applies it

    assert b.state == "open"
    with pytest.raises(BackendUnavailable, match="circuit open"):
        b.before_call()
    await a_sync.sync_once()
    assert a.state == "open"  # its own opening is not applied back to it


async def test_an_opening_is_applied_once_and_a_probe_then_decides_per_process(
    two: list[tuple[CircuitBreaker, BreakerSync, Clock]],
) -> None:
    (a, a_sync, _), (b, b_sync, b_clock) = two
    _trip(a)
    await a_sync.sync_once()
    await b_sync.sync_once()
    b_clock.now += 31  # B's cool-down is over: its probe goes through and succeeds
    b.before_call()
    b.record(success=True)
    assert b.state == "closed"

    await b_sync.sync_once()  # the same opening is still in Redis: not applied again
    assert b.state == "closed"


async def test_the_sync_task_spreads_an_opening_without_being_asked(
    two: list[tuple[CircuitBreaker, BreakerSync, Clock]],
) -> None:
    (a, a_sync, _), (b, b_sync, _) = two
    await a_sync.start()
    await b_sync.start()
    try:
        _trip(a)
        await _until(lambda: b.state == "open")
    finally:
        await a_sync.aclose()
        await b_sync.aclose()
    assert a.on_open is None  # closed syncs let go of the breakers


async def _until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


def test_share_breakers_needs_shared_state() -> None:
    with pytest.raises(SettingsError, match=r"state\.share_breakers needs shared state"):
        parse_state({"share_breakers": True}, {})


ERP_QUERY = "{ products(first: 3) { nodes { sku available } } }"
EXTRA = "share_breakers = true\n[scm.protection]\ncooldown_s = 120\nfailure_threshold = 3\n"


@pytest.mark.sockets
async def test_an_erp_found_down_by_replica_a_is_failed_fast_by_replica_b(
    engines: tuple[PostgresServer, RedisServer], tmp_path: Path
) -> None:
    pg, redis_engine = engines
    state = StateSettings(
        postgres_url=pg.create_database("breaker_replicas"),
        redis_url=redis_engine.url.replace("/0", "/5"),  # a Redis database of its own
    )
    with Emulations.start(tmp_path, scale=0.05) as emulations:
        config = write_config(tmp_path, emulations, EXTRA)
        erp = emulations.erp_url + "/_emulator"
        token = mint(JWT_SECRET, subject="breaker-admin", roles=["admin"])
        headers = {"Authorization": f"Bearer {token}", "x-crossdock-csrf": "1"}
        with (
            Replica.start(config, state, name="a") as a,
            Replica.start(config, state, name="b") as b,
        ):
            async with httpx.AsyncClient(headers=headers, timeout=60.0) as http:
                (await http.post(erp + "/faults", json={"down": True})).raise_for_status()
                for _ in range(10):  # A's own failures open its breaker
                    await _ask(http, a.url)
                    if await _breaker_open(http, a.url):
                        break
                else:
                    raise AssertionError("replica A's ERP breaker never opened")
                await _until_async(lambda: _breaker_open(http, b.url))
                before = (await http.get(erp + "/stats")).json()["total"]
                answer = await _ask(http, b.url)
                after = (await http.get(erp + "/stats")).json()["total"]
                (await http.post(erp + "/faults", json={"down": False})).raise_for_status()
    assert _unavailable(answer), answer
    assert after == before  # B failed fast: not one call reached the ERP


async def _ask(http: httpx.AsyncClient, url: str) -> dict[str, object]:
    body: dict[str, object] = (await http.post(url + "/graphql", json={"query": ERP_QUERY})).json()
    return body


def _unavailable(answer: dict[str, object]) -> bool:
    return "BACKEND_UNAVAILABLE" in str(answer.get("errors", ""))


async def _breaker_open(http: httpx.AsyncClient, url: str) -> bool:
    metrics = (await http.get(url + "/metrics")).text
    return 'crossdock_backend_breaker_state{state="open",system="scm"} 1.0' in metrics


async def _until_async(condition: Callable[[], object], timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await condition():  # type: ignore[misc]
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.1)
