"""Each backend is asked only for the columns the selection needs (issue 20): the `fields`
parameter every Zoho and ERPNext read receives, recorded at the emulations by spies on their
own parsers, for several selections; a row rule keeps its type's columns in full."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import backends.erpnext.query
import backends.zoho.routes_read
from resolvers.erpnext.mapping import SHIPMENT_BASE, SHIPMENT_FIELDS
from tests.schema.test_batching import ORDER_LIST
from tests.support.stack import GraphQLClient

Asked = dict[str, list[set[str]]]  # module or doctype -> the fields of each read


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> Asked:
    """The `fields` each emulated read was given, by module (Zoho) or doctype (ERPNext)."""
    seen: Asked = {}
    zoho_parse = backends.zoho.routes_read.parse_fields
    frappe_columns = backends.erpnext.query._columns

    def zoho(module: Any, text: str | None, *, required: bool) -> Any:
        seen.setdefault(module.api_name, []).append(set((text or "").split(",")))
        return zoho_parse(module, text, required=required)

    def frappe(doctype: Any, fields: Any) -> tuple[str, ...]:
        columns = frappe_columns(doctype, fields)
        seen.setdefault(doctype.name, []).append(set(columns))
        return columns

    monkeypatch.setattr(backends.zoho.routes_read, "parse_fields", zoho)
    monkeypatch.setattr(backends.erpnext.query, "_columns", frappe)
    return seen


async def run(gql: GraphQLClient, asked: Asked, query: str, **variables: Any) -> dict[str, Any]:
    await gql.data("{ customers(first: 1) { nodes { id } } }")  # the OAuth token first
    asked.clear()
    return await gql.data(query, **variables)


BASE = set(SHIPMENT_BASE)

PEER_W2 = """{ orders(first: 50) { nodes {
    id number status total { amount currency } customer { id name }
    lines { sku quantity product { sku stock { warehouse { id } onHand projected } } }
    shipments { id carrier status } } } }"""


async def test_the_peer_w2_asks_zoho_for_six_order_fields_and_erpnext_for_six_shipment_fields(
    gql: GraphQLClient, asked: Asked
) -> None:
    await run(gql, asked, PEER_W2)
    assert asked["Sales_Orders"] == [
        {"Status", "SO_Number", "Grand_Total", "Currency", "Account_Name", "Ordered_Items"}
    ]
    assert asked["Shipment"] == [BASE | {"carrier"}]


@pytest.mark.parametrize(
    ("selection", "fields"),
    [
        ("id", {"Status"}),
        ("number status", {"Status", "SO_Number"}),
        ("placedAt updatedAt", {"Status", "Created_Time", "Modified_Time"}),
        ("subtotal { amount } tax { amount }", {"Status", "Sub_Total", "Tax", "Currency"}),
        ("customer { id }", {"Status", "Account_Name"}),
        ("lines { sku }", {"Status", "Ordered_Items", "Currency"}),
    ],
)
async def test_an_order_list_asks_for_the_fields_of_its_selection(
    gql: GraphQLClient, asked: Asked, selection: str, fields: set[str]
) -> None:
    data = await run(gql, asked, f"{{ orders(first: 5) {{ nodes {{ {selection} }} }} }}")
    assert len(data["orders"]["nodes"]) == 5
    assert asked["Sales_Orders"] == [fields]


async def test_orders_reached_through_shipments_and_customers_are_narrowed_too(
    gql: GraphQLClient, asked: Asked
) -> None:
    data = await run(
        gql,
        asked,
        """{ shipments(first: 5) { nodes { id trackingUrl orderNumber order { status } } }
             customers(first: 2) { nodes { orders(first: 3) { nodes { number } } } } }""",
    )
    assert data["shipments"]["nodes"]
    assert asked["Shipment"] == [BASE | {"tracking_url"}]
    # the shipments' orders by id: number and status; the customers' orders by search: and
    # the account they are grouped by
    reads = sorted(sorted(fields) for fields in asked["Sales_Orders"])
    assert reads == [["Account_Name", "SO_Number", "Status"], ["SO_Number", "Status"]]


async def test_shipment_fields_follow_the_selection_and_fulfillment_needs_only_the_base(
    gql: GraphQLClient, asked: Asked
) -> None:
    await run(gql, asked, "{ orders(first: 5) { nodes { fulfillment } } }")
    assert asked["Shipment"] == [BASE]
    await run(gql, asked, "{ orders(first: 5) { nodes { shipments { value { amount } } } } }")
    assert asked["Shipment"] == [BASE | {"value_of_goods"}]


async def test_a_row_rule_on_shipments_keeps_their_columns_in_full(
    gql: GraphQLClient, client_for: Callable[..., GraphQLClient], asked: Asked
) -> None:
    await run(gql, asked, "{ shipments(first: 5) { nodes { id } } }")
    assert asked["Shipment"] == [BASE]
    asked.clear()
    partner = client_for("partner", partner_id="DHL")
    data = await partner.data("{ shipments(first: 5) { nodes { id } } }")
    assert data["shipments"]["nodes"]
    assert asked["Shipment"] == [set(SHIPMENT_FIELDS)]


async def test_the_readmes_order_list_asks_6_of_11_order_and_8_of_14_shipment_fields(
    gql: GraphQLClient, asked: Asked
) -> None:
    await run(gql, asked, ORDER_LIST, first=50)
    assert asked["Sales_Orders"] == [
        {"Status", "SO_Number", "Grand_Total", "Currency", "Account_Name", "Ordered_Items"}
    ]
    assert asked["Shipment"] == [BASE | {"carrier", "awb_number", "shipment_id"}]
    assert len(SHIPMENT_FIELDS) == 14
