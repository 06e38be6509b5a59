"""`crossdock serve --workers 2`: `/metrics` counts the requests served by both workers,
whichever worker answers the scrape (prometheus-client's multiprocess mode), and each
worker's breaker shows as its own series."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.auth.tokens import mint
from resolvers.state.config import StateSettings
from tests.scaleout.replicas import Emulations, Replica, write_config
from tests.support.engines import PostgresServer, RedisServer
from tests.support.stack import JWT_SECRET

pytestmark = [pytest.mark.engines, pytest.mark.sockets]
REQUESTS = 40
_names = itertools.count(1)


@pytest.fixture(scope="module")
def replica(
    engines: tuple[PostgresServer, RedisServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replica]:
    pg, redis = engines
    root = tmp_path_factory.mktemp("worker-metrics")
    state = StateSettings(
        postgres_url=pg.create_database(f"worker_metrics_{next(_names)}"),
        redis_url=redis.url.replace("/0", "/2"),  # a Redis database of its own
    )
    with (
        Emulations.start(root, scale=0.05) as emulations,
        Replica.start(write_config(root, emulations), state, workers=2, name="w") as served,
    ):
        yield served


def operations(text: str) -> float:
    """The GraphQL operations counted, read with prometheus-client's own parser."""
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "crossdock_graphql_operations_total"
    )


def breaker_pids(text: str) -> set[str]:
    return {
        s.labels["pid"]
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "crossdock_backend_breaker_state"
    }


def test_metrics_count_the_requests_of_both_workers(replica: Replica) -> None:
    for i in range(REQUESTS):  # a new connection each time: the kernel picks a worker per hash
        token = mint(JWT_SECRET, subject=f"metrics-{i}", roles=["admin"])
        headers = {"Authorization": f"Bearer {token}", "x-crossdock-csrf": "1"}
        body = {"query": "query Probe { __typename }"}
        assert httpx.post(replica.url + "/graphql", json=body, headers=headers).status_code == 200
    served = _served_eventually(replica, REQUESTS)
    assert len(served) == 2, served  # both workers answered some
    scrapes = [httpx.get(replica.url + "/metrics") for _ in range(12)]  # new connections
    assert all(s.status_code == 200 for s in scrapes)
    assert {operations(s.text) for s in scrapes} == {REQUESTS}
    assert _breakers_eventually(replica) == set(served)


def _served_eventually(replica: Replica, total: int) -> dict[str, int]:
    deadline = time.monotonic() + 20
    served = replica.served_by()
    while sum(served.values()) < total and time.monotonic() < deadline:
        time.sleep(0.1)
        served = replica.served_by()
    return served


def _breakers_eventually(replica: Replica) -> set[str]:
    """The pids of the breaker series: each worker writes its own every few seconds."""
    deadline = time.monotonic() + 30
    pids = breaker_pids(httpx.get(replica.url + "/metrics").text)
    while len(pids) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        pids = breaker_pids(httpx.get(replica.url + "/metrics").text)
    return pids
