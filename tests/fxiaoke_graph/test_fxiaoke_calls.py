"""Backend calls of the order-list queries over Fxiaoke, counted at the emulation.

The Zoho counterparts are tests/schema/test_batching.py and test_held_by_parent.py (W1, W2).
Over Fxiaoke an order page costs the orders query, the lines query (SalesOrderProductObj by
`order_id IN`, pages of 100 lines: Fxiaoke's `limit` cap) and one products query for the
lines' SKUs, whose answer also gives W1 the products' names and prices (what the parent
already holds costs no call). So the count grows by one call per 100 lines (and per 100
orders), and with nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest

from backends.erpnext.app import ErpEmulator
from backends.fxiaoke.app import FxiaokeEmulator
from backends.fxiaoke.limits import Limits, LimitSettings
from tests.schema.test_batching import ORDER_LIST, count_calls
from tests.schema.test_held_by_parent import PEER_W2
from tests.schema.test_prefetching import Timeline, first_order_id
from tests.support.stack import GraphQLClient

QUERY = "POST /cgi/crm/v2/data/query"


@pytest.fixture(scope="session")
def crm_kind() -> str:
    return "fxiaoke"


def _expected(data: dict[str, Any], first: int, product_calls: int) -> int:
    """Pages of orders (limit 100, one row past `first` to know of a next page), pages of
    lines per IN filter of 100 order ids (a short page ends each), and the product calls."""
    nodes = data["orders"]["nodes"]
    order_pages = -(-(first + 1) // 100)
    batches = [nodes[i : i + 100] for i in range(0, len(nodes), 100)]
    line_pages = sum(sum(len(o["lines"]) for o in batch) // 100 + 1 for batch in batches)
    return order_pages + line_pages + product_calls


async def _warm(gql: GraphQLClient) -> None:
    """The token and SalesOrderObj's describe: once per connector, not per query."""
    await gql.data("{ orders(first: 1) { nodes { id } } }")


@pytest.mark.parametrize("first", [10, 50])  # 200 is over the default cost limit
async def test_w1_costs_orders_lines_and_one_product_call(
    gql: GraphQLClient, crm_emulator: FxiaokeEmulator, scm_emulator: ErpEmulator, first: int
) -> None:
    await _warm(gql)
    data, crm, _ = await count_calls(gql, crm_emulator, scm_emulator, ORDER_LIST, first=first)
    assert len(data["orders"]["nodes"]) == first
    products = [line["product"] for o in data["orders"]["nodes"] for line in o["lines"]]
    assert all(p["name"] and p["listPrice"]["amount"] for p in products)
    # + the products for the lines' SKUs, which also answer the catalog fields
    assert crm == {QUERY: _expected(data, first, product_calls=1)}


async def test_a_product_asked_by_sku_still_costs_its_catalog_call(
    gql: GraphQLClient, crm_emulator: FxiaokeEmulator, scm_emulator: ErpEmulator
) -> None:
    await _warm(gql)
    some = await gql.data("{ orders(first: 1) { nodes { lines { sku } } } }")
    sku = some["orders"]["nodes"][0]["lines"][0]["sku"]
    query = "query($sku: ID!) { product(sku: $sku) { name listPrice { amount } } }"
    data, crm, _ = await count_calls(gql, crm_emulator, scm_emulator, query, sku=sku)
    assert data["product"]["name"]
    assert crm == {QUERY: 1}  # no order read it first: the catalog by SKU


@pytest.mark.parametrize("first", [10, 50])
async def test_w2_costs_orders_lines_and_one_product_call(
    gql: GraphQLClient, crm_emulator: FxiaokeEmulator, scm_emulator: ErpEmulator, first: int
) -> None:
    await _warm(gql)
    data, crm, _ = await count_calls(gql, crm_emulator, scm_emulator, PEER_W2, first=first)
    lines = [line for order in data["orders"]["nodes"] for line in order["lines"]]
    assert all(line["product"]["sku"] == line["sku"] for line in lines)
    assert crm == {QUERY: _expected(data, first, product_calls=1)}  # + products for the SKUs


async def test_a_customer_search_is_pushed_into_the_query(
    gql: GraphQLClient, crm_emulator: FxiaokeEmulator, scm_emulator: ErpEmulator
) -> None:
    some = await gql.data("{ customers(first: 1) { nodes { name } } }")
    name = some["customers"]["nodes"][0]["name"]
    query = "query($s: String) { customers(first: 5, search: $s) { nodes { name } } }"
    data, crm, _ = await count_calls(gql, crm_emulator, scm_emulator, query, s=name)
    assert name in [node["name"] for node in data["customers"]["nodes"]]
    assert crm == {QUERY: 2}  # the accounts matching the name, and their contacts (emails)


async def test_a_used_up_daily_quota_reaches_clients_as_backend_unavailable(
    gql: GraphQLClient, crm_emulator: FxiaokeEmulator, scm_emulator: ErpEmulator
) -> None:
    await _warm(gql)
    crm_emulator.limits = Limits(LimitSettings(daily_quota=0), crm_emulator.clock)  # used up
    crm_emulator.stats.reset()
    body = await gql.query("{ orders(first: 5) { nodes { number } } }")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BACKEND_UNAVAILABLE"
    assert "daily API quota" in error["message"]
    assert crm_emulator.stats.total == 1  # told once, not retried
    body = await gql.query("{ customers(first: 5) { nodes { name } } }")
    assert body["errors"][0]["extensions"]["code"] == "BACKEND_UNAVAILABLE"
    assert crm_emulator.stats.total == 1  # the connector knows: no further call today


@pytest.mark.parametrize(
    ("selection", "calls"),
    [
        ("number status total { amount } customer { id }", 1),  # the orders query alone
        ("number lines { sku }", None),  # the lines (and their products) as before
    ],
)
async def test_an_order_list_reads_the_lines_only_when_its_selection_needs_them(
    gql: GraphQLClient,
    crm_emulator: FxiaokeEmulator,
    scm_emulator: ErpEmulator,
    selection: str,
    calls: int | None,
) -> None:
    await _warm(gql)
    query = f"{{ orders(first: 10) {{ nodes {{ {selection} }} }} }}"
    data, crm, _ = await count_calls(gql, crm_emulator, scm_emulator, query)
    assert len(data["orders"]["nodes"]) == 10
    if calls is None:
        assert crm == {QUERY: _expected(data, 10, product_calls=1)}
    else:
        assert crm == {QUERY: calls}


async def test_an_order_page_asks_for_the_lines_beside_the_order(
    gql: GraphQLClient, crm: Any
) -> None:
    """The lines are keyed by the order id the page already has: they are asked while the
    order is on its way, not after (one round trip less at any backend latency)."""
    order_id = await first_order_id(gql)
    line = Timeline()
    query_in = crm.wire.query_in

    async def spied(api_name: str, *args: Any, **kwargs: Any) -> Any:
        return await line.spy(api_name, query_in)(api_name, *args, **kwargs)

    crm.wire.query_in = spied
    data = await gql.data(
        "query P($id: ID!) { order(id: $id) { number lines { sku quantity } } }", id=order_id
    )
    assert data["order"]["lines"]
    assert line.events.index("SalesOrderProductObj:start") < line.events.index("SalesOrderObj:end")
