"""Connections: walking every page equals the full listing; every edge cursor resumes; caps."""

from __future__ import annotations

from typing import Any

import pytest

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from tests.support.stack import GraphQLClient

LISTINGS = {
    # one per connection root field; the key field identifies a node
    "orders": "id",
    "customers": "id",
    "products": "sku",
    "shipments": "id",
}


async def walk(gql: GraphQLClient, field: str, key: str, first: int) -> list[str]:
    seen: list[str] = []
    after: str | None = None
    while True:
        data = await gql.data(
            f"""query($first: Int, $after: String) {{ {field}(first: $first, after: $after) {{
                  edges {{ cursor node {{ {key} }} }} pageInfo {{ hasNextPage endCursor }} }} }}""",
            first=first,
            after=after,
        )
        page = data[field]
        seen += [edge["node"][key] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize(("field", "key"), sorted(LISTINGS.items()))
async def test_walking_all_pages_equals_the_full_listing(
    gql: GraphQLClient, field: str, key: str
) -> None:
    full = await walk(gql, field, key, first=200)
    paged = await walk(gql, field, key, first=7)
    assert paged == full
    assert len(full) == len(set(full)) > 7


async def test_every_edge_cursor_resumes_right_after_its_node(gql: GraphQLClient) -> None:
    data = await gql.data("{ orders(first: 20) { edges { cursor node { id } } } }")
    edges = data["orders"]["edges"]
    ids = [edge["node"]["id"] for edge in edges]
    for i in (0, 4, 10):
        after = await gql.data(
            "query($a: String) { orders(first: 3, after: $a) { nodes { id } } }",
            a=edges[i]["cursor"],
        )
        assert [n["id"] for n in after["orders"]["nodes"]] == ids[i + 1 : i + 4]


async def test_walking_by_end_cursor_costs_one_crm_call_per_page(
    gql: GraphQLClient, crm_emulator: ZohoEmulator
) -> None:
    await gql.data("{ orders(first: 1) { nodes { id } } }")
    crm_emulator.stats.reset()
    await walk(gql, "orders", "id", first=100)  # 300 seeded orders: 3 pages
    assert crm_emulator.stats.snapshot()["routes"] == {"GET /crm/v8/Sales_Orders": 3}


async def test_a_customers_orders_page_on_from_its_end_cursor(gql: GraphQLClient) -> None:
    some = await gql.data("{ orders(first: 1) { nodes { customer { id } } } }")
    customer_id = some["orders"]["nodes"][0]["customer"]["id"]
    query = """query($c: ID!, $a: String) { customer(id: $c) {
                 orders(first: 2, after: $a) {
                   nodes { id } pageInfo { hasNextPage endCursor } } } }"""
    all_ids = await gql.data(
        "query($c: ID!) { customer(id: $c) { orders(first: 200) { nodes { id } } } }", c=customer_id
    )
    expected = [n["id"] for n in all_ids["customer"]["orders"]["nodes"]]
    seen: list[str] = []
    after: str | None = None
    while True:
        page = (await gql.data(query, c=customer_id, a=after))["customer"]["orders"]
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


@pytest.mark.parametrize(
    ("first", "fragment"),
    [
        (201, "between 0 and 200"),  # one over the default cap
        (-1, "between 0 and 200"),  # negative sizes are nonsense, not "all"
    ],
)
async def test_first_outside_the_cap_is_bad_user_input_naming_the_cap(
    gql: GraphQLClient, first: int, fragment: str
) -> None:
    body = await gql.query("query($f: Int) { orders(first: $f) { nodes { id } } }", f=first)
    error = body["errors"][0]
    # a request error: the gateway checks `first` before estimating the operation's cost
    assert body["data"] is None
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert fragment in error["message"]
    assert "graphql.max_first" in error["message"]


async def test_first_zero_is_an_empty_page_without_a_backend_call(
    gql: GraphQLClient, crm_emulator: ZohoEmulator
) -> None:
    data = await gql.data("{ orders(first: 0) { nodes { id } pageInfo { endCursor } } }")
    assert data["orders"]["nodes"] == []
    assert crm_emulator.stats.total == 0


async def test_shipments_carrier_filter_is_pushed_to_erpnext(
    gql: GraphQLClient, scm_emulator: ErpEmulator
) -> None:
    everything = await walk(gql, "shipments", "id", first=200)
    scm_emulator.stats.reset()
    data: dict[str, Any] = await gql.data(
        '{ shipments(first: 5, carrier: "UPS") { nodes { id carrier } } }'
    )
    ups = data["shipments"]["nodes"]
    # a full page of UPS from one Shipment query of 5: the filter ran in ERPNext, not after
    assert len(ups) == 5
    assert {s["carrier"] for s in ups} == {"UPS"}
    assert len(everything) > 20
    assert scm_emulator.stats.snapshot()["routes"]["GET /api/resource/Shipment"] == 1


async def test_a_customers_orders_cursor_does_not_resume_another_customers_listing(
    gql: GraphQLClient,
) -> None:
    data = await gql.data(
        "{ customers(first: 2) { nodes { id orders(first: 1) { pageInfo { endCursor } } } } }"
    )
    first, second = data["customers"]["nodes"]
    cursor = first["orders"]["pageInfo"]["endCursor"]
    assert cursor is not None
    query = """query($c: ID!, $a: String, $s: OrderStatus) { customer(id: $c) {
                 orders(first: 1, after: $a, status: $s) { nodes { id } } } }"""
    assert "errors" not in await gql.query(query, c=first["id"], a=cursor)
    for customer, status in ((second["id"], None), (first["id"], "APPROVED")):
        body = await gql.query(query, c=customer, a=cursor, s=status)
        assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR", body
        assert body["data"]["customer"]["orders"] is None
