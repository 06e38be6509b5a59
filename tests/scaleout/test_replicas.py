"""Gateway replicas as separate processes sharing PostgreSQL and Redis (issue 19).

One subject's rate limit counts once across replicas; one idempotency key sent to both runs
once; concurrent checkouts of one SKU through both never oversell; a placeOrder whose replica
is SIGKILLed mid-process is finished or compensated by another; `--workers 2` spreads
connections over both workers. The emulations run in a process of their own; the ERP's
stock and reservations are read from its SQLite file afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from backends.erpnext.store import ErpStore
from backends.seed_names import LEAF_WAREHOUSES
from gateway.auth.tokens import mint
from resolvers.state.config import StateSettings
from tests.scaleout.replicas import Emulations, Replica, write_config
from tests.support.engines import PostgresServer, RedisServer
from tests.support.stack import JWT_SECRET

pytestmark = [pytest.mark.engines, pytest.mark.sockets]
RATE = "[rate_limits.roles.analyst]\nper_second = 0.01\nburst = 4\n"
PLACE = """mutation($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) {
    processId status order { id } reservations { quantity reserved } } }"""
ENDED = {"APPROVED", "PENDING_APPROVAL", "FAILED", "CANCELLED", "REJECTED"}
_names = itertools.count(1)


@dataclass
class Cluster:
    emulations: Emulations
    config: Path
    state: StateSettings
    a: Replica
    b: Replica


@pytest.fixture(scope="module")
def cluster(
    engines: tuple[PostgresServer, RedisServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    pg, redis = engines
    root = tmp_path_factory.mktemp("replicas")
    state = StateSettings(
        postgres_url=pg.create_database(f"replicas_{next(_names)}"),
        redis_url=redis.url.replace("/0", "/1"),  # a Redis database of its own
    )
    with Emulations.start(root, scale=0.1) as emulations:
        config = write_config(root, emulations, RATE)
        with (
            Replica.start(config, state, name="a") as a,
            Replica.start(config, state, name="b") as b,
        ):
            yield Cluster(emulations, config, state, a, b)


def client(subject: str, role: str) -> httpx.AsyncClient:
    token = mint(JWT_SECRET, subject=subject, roles=[role])
    headers = {"Authorization": f"Bearer {token}", "x-crossdock-csrf": "1"}
    return httpx.AsyncClient(headers=headers, timeout=60.0)


async def gql(http: httpx.AsyncClient, url: str, query: str, **variables: Any) -> dict[str, Any]:
    reply = await http.post(url + "/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = reply.json()
    return body


async def test_one_subjects_rate_limit_counts_once_across_replicas(cluster: Cluster) -> None:
    statuses = []
    async with client("analyst-rate", "analyst") as http:
        for i in range(10):
            replica = cluster.a if i % 2 else cluster.b
            reply = await http.post(replica.url + "/graphql", json={"query": "{ __typename }"})
            statuses.append(reply.status_code)
    assert statuses.count(200) == 4, statuses  # burst 4, shared: not 4 per replica
    assert statuses.count(429) == 6


async def _sku_and_customers(url: str, skip: int) -> tuple[str, list[str]]:
    async with client("admin-lookup", "admin") as http:
        body = await gql(
            http,
            url,
            "{ customers(first: 8) { nodes { id } }"
            " products(first: 50) { nodes { sku active available } } }",
        )
    data = body["data"]
    skus = [p["sku"] for p in data["products"]["nodes"] if p["active"] and p["available"]]
    return skus[skip], [c["id"] for c in data["customers"]["nodes"]]


def _set_stock(cluster: Cluster, sku: str, free: tuple[int, ...]) -> None:
    erp = ErpStore(cluster.emulations.data / "erpnext.sqlite3")
    try:
        for warehouse, qty in zip(LEAF_WAREHOUSES, free, strict=True):
            erp.execute(
                "UPDATE tabBin SET actual_qty = reserved_qty + ? WHERE item_code = ?"
                " AND warehouse = ?",
                (qty, sku, warehouse),
            )
        erp.recompute_bins()
    finally:
        erp.close()


def _erp(cluster: Cluster, sql: str, *params: Any) -> list[dict[str, Any]]:
    erp = ErpStore(cluster.emulations.data / "erpnext.sqlite3")
    try:
        return [dict(row) for row in erp.query(sql, params)]
    finally:
        erp.close()


def _processes(cluster: Cluster) -> int:
    assert cluster.state.postgres_url is not None
    with psycopg.connect(cluster.state.postgres_url) as conn:
        row = conn.execute("SELECT count(*) FROM order_processes").fetchone()
    return int(row[0]) if row else 0


async def test_one_idempotency_key_sent_to_both_replicas_runs_once(cluster: Cluster) -> None:
    sku, customers = await _sku_and_customers(cluster.a.url, skip=-1)
    _set_stock(cluster, sku, (500, 0, 0))
    before = _processes(cluster)
    order = {"customerId": customers[0], "lines": [{"sku": sku, "quantity": "1"}]}
    async with client("seller-idem", "sales") as http:
        answers = await asyncio.gather(
            *(
                gql(http, replica.url, PLACE, input=order, key="same-key-both-replicas")
                for replica in (cluster.a, cluster.b, cluster.a, cluster.b)
            )
        )
    results = [answer["data"]["placeOrder"] for answer in answers]
    assert len({r["processId"] for r in results}) == 1, results
    assert len({r["order"]["id"] for r in results}) == 1
    assert _processes(cluster) == before + 1
    crm_id = results[0]["order"]["id"]
    orders = _erp(
        cluster, 'SELECT name FROM "tabSales Order" WHERE custom_crm_order_id = ?', crm_id
    )
    assert len(orders) == 1


async def test_concurrent_checkouts_of_one_sku_through_both_replicas_never_oversell(
    cluster: Cluster,
) -> None:
    sku, customers = await _sku_and_customers(cluster.a.url, skip=0)
    _set_stock(cluster, sku, (53, 53, 84))  # 190 free; each order wants 60 from one warehouse
    sellers = [client(f"seller-rush-{i}", "sales") for i in range(8)]
    try:
        answers = await asyncio.gather(
            *(
                gql(
                    http,
                    (cluster.a if i % 2 else cluster.b).url,
                    PLACE,
                    input={"customerId": customer, "lines": [{"sku": sku, "quantity": "60"}]},
                    key=f"rush-{i}",
                )
                for i, (http, customer) in enumerate(zip(sellers, customers, strict=True))
            )
        )
    finally:
        for http in sellers:
            await http.aclose()
    assert all(a.get("data") for a in answers), answers
    statuses = sorted(a["data"]["placeOrder"]["status"] for a in answers)
    assert statuses == ["APPROVED"] + ["PENDING_APPROVAL"] * 7, answers
    held = _erp(
        cluster,
        'SELECT voucher_no, SUM(reserved_qty - delivered_qty) AS held FROM "tabStock '
        'Reservation Entry" WHERE item_code = ? AND docstatus = 1 GROUP BY voucher_no',
        sku,
    )
    assert [h["held"] for h in held] == [60.0]
    bins = _erp(cluster, "SELECT projected_qty FROM tabBin WHERE item_code = ?", sku)
    assert all(b["projected_qty"] >= 0 for b in bins)


async def test_a_placeorder_whose_replica_is_killed_mid_process_is_finished_by_another(
    cluster: Cluster,
) -> None:
    sku, customers = await _sku_and_customers(cluster.a.url, skip=1)
    _set_stock(cluster, sku, (500, 0, 0))
    order = {"customerId": customers[1], "lines": [{"sku": sku, "quantity": "2"}]}
    # the ERP holds the next Sales Order insert 2 s (then commits it, as a slow ERP would)
    cluster.emulations.hold("POST", r"^/api/resource/Sales Order$", 2000)
    with Replica.start(cluster.config, cluster.state, name="victim") as victim:
        async with client("seller-crash", "sales") as http:
            placing = asyncio.create_task(gql(http, victim.url, PLACE, input=order, key="crash-1"))
            await _until(lambda: cluster.emulations.held() >= 1)  # the process is mid-way
            victim.kill()
            with pytest.raises(httpx.HTTPError):
                await placing
            result = await _finished_through(http, cluster.b.url, order)
    assert result["status"] in ENDED
    crm_id = result["order"]["id"]
    live = _erp(
        cluster,
        'SELECT name FROM "tabSales Order" WHERE custom_crm_order_id = ? AND docstatus != 2',
        crm_id,
    )
    assert len(live) == (1 if result["status"] == "APPROVED" else 0), (result, live)


async def _finished_through(
    http: httpx.AsyncClient, url: str, order: dict[str, Any]
) -> dict[str, Any]:
    """Replay the key on B until the process has ended (B's resolver or this call takes it
    over once the dead replica's lease and locks expired); retryable errors meanwhile."""
    for _ in range(240):
        answer = await gql(http, url, PLACE, input=order, key="crash-1")
        result = (answer.get("data") or {}).get("placeOrder")
        if result is not None and result["status"] in ENDED:
            return dict(result)
        codes = {e["extensions"]["code"] for e in answer.get("errors", [])}
        assert codes <= {"PROCESS_BUSY", "BUSY", "PROCESS_RECOVERING"}, answer
        await asyncio.sleep(0.25)
    raise AssertionError("the killed replica's process was not taken over within 60 s")


async def _until(condition: Any, timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


def test_two_workers_spread_connections_over_both(cluster: Cluster) -> None:
    with Replica.start(cluster.config, cluster.state, workers=2, name="workers") as replica:
        for i in range(40):  # a new connection each time: the kernel picks a worker per hash
            token = mint(JWT_SECRET, subject=f"spread-{i}", roles=["admin"])
            headers = {"Authorization": f"Bearer {token}", "x-crossdock-csrf": "1"}
            reply = httpx.post(
                replica.url + "/graphql", json={"query": "{ __typename }"}, headers=headers
            )
            assert reply.status_code == 200
        served = _served_eventually(replica, 40)
    assert len(served) == 2, served
    assert all(count >= 1 for count in served.values())


def _served_eventually(replica: Replica, total: int) -> dict[str, int]:
    import time

    deadline = time.monotonic() + 10
    served = replica.served_by()
    while sum(served.values()) < total and time.monotonic() < deadline:
        time.sleep(0.1)
        served = replica.served_by()
    return served


async def test_sigterm_drains_the_requests_under_way_then_stops_every_worker(
    cluster: Cluster,
) -> None:
    crm = cluster.emulations.zoho_url + "/_emulator"
    with Replica.start(cluster.config, cluster.state, workers=2, name="drain") as replica:
        async with client("admin-drain", "admin") as http, httpx.AsyncClient() as knobs:
            (await knobs.post(crm + "/stats/reset")).raise_for_status()
            (await knobs.post(crm + "/faults", json={"latency_ms": 1500})).raise_for_status()
            try:
                slow = asyncio.create_task(
                    gql(http, replica.url, "{ orders(first: 2) { nodes { number } } }")
                )
                await _until(lambda: _crm_busy(cluster))  # the request waits on the CRM now
                replica.process.terminate()  # SIGTERM to the supervisor
                answer = await slow
            finally:
                (await knobs.post(crm + "/faults", json={"latency_ms": 0})).raise_for_status()
        assert "errors" not in answer, answer
        assert len(answer["data"]["orders"]["nodes"]) == 2
        assert replica.process.wait(timeout=30) == 0
    log = replica.log.read_text(encoding="utf-8")
    assert log.count("Finished server process") == 2, log


def _crm_busy(cluster: Cluster) -> bool:
    stats = httpx.get(cluster.emulations.zoho_url + "/_emulator/stats").json()
    return any(route.startswith("GET /crm/v8/Sales_Orders") for route in stats["routes"])
