"""A selection answered by what the parent already holds costs no call (issue 20's rules):
an order line holds its SKU, so `product { sku stock {…} }` needs no catalog lookup; a Bin
row names its warehouse, so `warehouse { id }` needs no Warehouse list. Counted at the
emulations, for the peer benchmark's W2 and for other selections."""

from __future__ import annotations

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from tests.schema.test_batching import count_calls
from tests.support.stack import GraphQLClient

PEER_W2 = """
query W2($first: Int!) {
  orders(first: $first) {
    nodes {
      id number status total { amount currency } customer { id name }
      lines { sku quantity product { sku stock { warehouse { id } onHand projected } } }
      shipments { id carrier status }
    }
  }
}"""


async def test_the_peer_benchmarks_w2_costs_three_calls_as_the_peer_does(
    gql: GraphQLClient, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    data, crm, scm = await count_calls(gql, crm_emulator, scm_emulator, PEER_W2, first=50)
    lines = [line for order in data["orders"]["nodes"] for line in order["lines"]]
    assert lines
    assert all(line["product"]["sku"] == line["sku"] for line in lines)
    assert any(level["warehouse"]["id"] for line in lines for level in line["product"]["stock"])
    assert crm == {"GET /crm/v8/Sales_Orders": 1}
    # the 50 orders' shipments in one POST of frappe.client.get_list (a long id list)
    assert scm == {"GET /api/resource/Bin": 1, "POST /api/method/frappe.client.get_list": 1}


async def test_a_field_the_parent_does_not_hold_still_costs_its_call(
    gql: GraphQLClient, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    query = """{ orders(first: 20) { nodes { lines { product {
        sku name stock { warehouse { id name } onHand } } } } } }"""
    data, crm, scm = await count_calls(gql, crm_emulator, scm_emulator, query)
    names = {line["product"]["name"] for o in data["orders"]["nodes"] for line in o["lines"]}
    assert all(names)
    assert crm == {"GET /crm/v8/Sales_Orders": 1, "GET /crm/v8/Products/search": 1}
    assert scm == {"GET /api/resource/Bin": 1, "GET /api/resource/Warehouse": 1}
    levels = [
        level
        for order in data["orders"]["nodes"]
        for line in order["lines"]
        for level in line["product"]["stock"]
    ]
    assert all(level["warehouse"]["name"] for level in levels)


async def test_a_product_by_sku_at_the_root_still_asks_whether_it_exists(
    gql: GraphQLClient, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    data, crm, _ = await count_calls(
        gql, crm_emulator, scm_emulator, '{ product(sku: "SKU-NOWHERE") { sku stock { onHand } } }'
    )
    assert data == {"product": None}  # the root's question is existence: it looks up
    assert crm["GET /crm/v8/Products/search"] == 1


async def test_shipment_lines_reach_stock_without_the_catalog(
    gql: GraphQLClient, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    query = "{ shipments(first: 10) { nodes { lines { sku product { sku available } } } } }"
    data, crm, _ = await count_calls(gql, crm_emulator, scm_emulator, query)
    lines = [line for s in data["shipments"]["nodes"] for line in s["lines"]]
    assert lines
    assert all(line["product"]["sku"] == line["sku"] for line in lines)
    assert "GET /crm/v8/Products/search" not in crm
