"""Redis or PostgreSQL gone while the gateway runs: requests fail clearly (503 or a
STATE_UNAVAILABLE error), /readyz names the state, and everything recovers once the store
is back, with nothing lost from the journal. No fallback to per-process state."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends.erpnext.store import ErpStore
from backends.seed import seed
from backends.zoho.store import ZohoStore
from gateway.settings import Settings
from gateway.settings.saga import parse_saga
from resolvers.state.config import StateSettings
from tests.support.engines import PostgresServer, RedisServer
from tests.support.stack import JOURNAL_KEY, ClientFor, SeededStores, gateway_settings

pytestmark = pytest.mark.engines
PLACE = """mutation($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) { processId status } }"""


@pytest.fixture
def own_engines(
    engines: tuple[PostgresServer, RedisServer],
) -> Iterator[tuple[PostgresServer, RedisServer]]:
    """Servers of this test's own: it stops and restarts them."""
    with PostgresServer.start() as pg, RedisServer.start() as redis:
        yield pg, redis


@pytest.fixture
def seeded_stores(tmp_path: Path) -> SeededStores:
    stores = SeededStores(
        ZohoStore(tmp_path / "zoho.sqlite3"), ErpStore(tmp_path / "erpnext.sqlite3")
    )
    seed(stores.zoho, stores.erp, scale=0.05, random_seed=11)
    return stores


@pytest.fixture
def settings(tmp_path: Path, own_engines: tuple[PostgresServer, RedisServer]) -> Settings:
    pg, redis = own_engines
    saga = {"journal_key": JOURNAL_KEY, "approval": {"require_credit": False}}
    state = StateSettings(postgres_url=pg.create_database("outage"), redis_url=redis.url)
    return dataclasses.replace(gateway_settings(tmp_path), saga=parse_saga(saga, {}), state=state)


async def _order(admin: Any) -> dict[str, Any]:
    data = await admin.data(
        "{ customers(first: 1) { nodes { id } }"
        " products(first: 50) { nodes { sku active available } } }"
    )
    sku = next(p["sku"] for p in data["products"]["nodes"] if p["active"] and p["available"])
    customer = data["customers"]["nodes"][0]["id"]
    return {"customerId": customer, "lines": [{"sku": sku, "quantity": "1"}]}


async def test_stores_gone_fail_clearly_and_recover_with_the_journal_intact(
    client_for: ClientFor, own_engines: tuple[PostgresServer, RedisServer]
) -> None:
    pg, redis = own_engines
    sales = client_for("sales")
    order = await _order(client_for("admin"))
    first = (await sales.data(PLACE, input=order, key="before"))["placeOrder"]

    redis.stop()
    refused = await sales.http.post("/graphql", json={"query": "{ __typename }"})
    assert refused.status_code == 503
    assert refused.json()["errors"][0]["extensions"]["code"] == "STATE_UNAVAILABLE"
    assert "Redis ([state] redis_url)" in refused.json()["errors"][0]["message"]
    await _not_ready(sales.http)
    redis.run()
    assert (await sales.http.post("/graphql", json={"query": "{ __typename }"})).status_code == 200

    pg.stop()
    body = await sales.query(PLACE, input=order, key="during")
    assert body["errors"][0]["extensions"]["code"] == "STATE_UNAVAILABLE", body
    assert "PostgreSQL ([state] postgres_url)" in body["errors"][0]["message"]
    await _not_ready(sales.http)
    pg.run()

    again = (await sales.data(PLACE, input=order, key="before"))["placeOrder"]
    assert again == first  # the journal kept it: the key answers the same process
    later = (await sales.data(PLACE, input=order, key="during"))["placeOrder"]
    assert later["processId"] != first["processId"]
    ready = await sales.http.get("/readyz")
    assert ready.status_code == 200, ready.text


async def _not_ready(http: httpx.AsyncClient) -> None:
    reply = await http.get("/readyz")
    assert reply.status_code == 503
    assert reply.json()["failing"] == ["state"]
    assert reply.json()["errors"]["state"] == "STATE_UNAVAILABLE"
