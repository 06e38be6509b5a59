"""Batching: the order list costs the same backend calls whatever the page size.

Counted at the emulations' request counters (the real HTTP requests the connectors send),
after the Zoho token is fetched, so only data calls are compared.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from resolvers.erpnext import ERPNext
from tests.support.stack import GraphQLClient

ORDER_LIST = """
query OrderList($first: Int!) {
  orders(first: $first) {
    nodes {
      id number status total { amount currency }
      customer { id name }
      lines { sku quantity product {
        name listPrice { amount currency } stock { onHand available } available } }
      shipments { id carrier status trackingNumber }
      fulfillment
    }
  }
}
"""

CRM_CALLS = {
    "GET /crm/v8/Sales_Orders": 1,  # the page of orders (customer id and name ride on it)
    "GET /crm/v8/Products/search": 1,  # catalog products by SKU (search `in`)
}
SCM_LISTS = (
    "Bin",  # stock of every SKU on the page
    "Sales Order",  # ERP mirrors by CRM order id (headers only)
    "Shipment",  # shipments by CRM order id
)  # no `Address`: the query selects no shipment destination; no `Shipment Delivery Note` /
# `Delivery Note Item`: it selects no shipment lines (`Order.lines` is another field)
LINE_LISTS = ("Shipment Delivery Note", "Delivery Note Item")  # a shipment's lines
# The ERPNext connector sends up to 200 keys (the GraphQL max_first) per `in` filter, so
# every page size costs the same calls, 200 included. A call whose query would pass ~1 KB
# goes as one POST frappe.client.get_list instead of a GET (the page's CRM order ids from
# about 35 orders on; its few SKUs stay a GET): the same calls under another route name.
GET_LIST = "POST /api/method/frappe.client.get_list"


def scm_calls(*posted: str, lists: tuple[str, ...] = SCM_LISTS) -> dict[str, int]:
    """One call per list; those named in `posted` counted under the get_list route."""
    calls = {f"GET /api/resource/{doctype}": 1 for doctype in lists if doctype not in posted}
    return {**calls, GET_LIST: len(posted)} if posted else calls


async def count_calls(
    gql: GraphQLClient,
    crm_emulator: ZohoEmulator,
    scm_emulator: ErpEmulator,
    query: str,
    **variables: Any,
) -> tuple[dict[str, Any], dict[str, int], dict[str, int]]:
    await gql.data("{ customers(first: 1) { nodes { id } } }")  # fetch the OAuth token first
    crm_emulator.stats.reset()
    scm_emulator.stats.reset()
    data = await gql.data(query, **variables)
    crm_routes = crm_emulator.stats.snapshot()["routes"]
    scm_routes = scm_emulator.stats.snapshot()["routes"]
    return data, crm_routes, scm_routes


@pytest.mark.parametrize(
    ("first", "posted"),
    [
        (10, ()),  # a short page
        (50, ("Sales Order", "Shipment")),  # the page size of the issue
        (200, ("Sales Order", "Shipment")),  # the cap
    ],
)
async def test_the_order_list_costs_the_same_backend_calls_for_any_page_size(
    gql: GraphQLClient,
    crm_emulator: ZohoEmulator,
    scm_emulator: ErpEmulator,
    first: int,
    posted: tuple[str, ...],
) -> None:
    data, crm_routes, scm_routes = await count_calls(
        gql, crm_emulator, scm_emulator, ORDER_LIST, first=first
    )
    assert len(data["orders"]["nodes"]) == first
    assert crm_routes == CRM_CALLS
    assert scm_routes == scm_calls(*posted)


class KeySpy:
    """Wraps a real batch method and records the keys of every call."""

    def __init__(self, method: Callable[..., Awaitable[Any]]) -> None:
        self.method = method
        self.calls: list[list[str]] = []

    async def __call__(self, keys: Sequence[str], **kwargs: Any) -> Any:
        self.calls.append(list(keys))
        return await self.method(keys, **kwargs)


async def test_repeated_keys_are_fetched_once(gql: GraphQLClient, scm: ERPNext) -> None:
    spy = KeySpy(scm.list_bins)
    scm.list_bins = spy  # type: ignore[method-assign,assignment]
    data = await gql.data(ORDER_LIST, first=50)
    skus = {line["sku"] for order in data["orders"]["nodes"] for line in order["lines"]}
    assert len(spy.calls) == 1
    assert sorted(spy.calls[0]) == sorted(skus)  # each SKU once, though many lines share SKUs


async def test_the_same_product_asked_twice_in_one_operation_costs_one_call(
    gql: GraphQLClient, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    query = """{ a: product(sku: "SKU-00001") { available }
                 b: product(sku: "SKU-00001") { available stock { onHand } } }"""
    data, crm_routes, scm_routes = await count_calls(gql, crm_emulator, scm_emulator, query)
    assert data["a"]["available"] == data["b"]["available"]
    assert crm_routes == {"GET /crm/v8/Products/search": 1}
    assert scm_routes == {"GET /api/resource/Bin": 1}


CUSTOMER_QUERY = """
query Customers($first: Int!) {
  orders(first: $first) { nodes { customer { %s } } }
}
"""


async def test_customer_id_and_name_come_with_the_order_without_reading_accounts(
    gql: GraphQLClient, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    named, crm_routes, _ = await count_calls(
        gql, crm_emulator, scm_emulator, CUSTOMER_QUERY % "id name", first=50
    )
    assert crm_routes == {"GET /crm/v8/Sales_Orders": 1}
    read, crm_routes, _ = await count_calls(
        gql, crm_emulator, scm_emulator, CUSTOMER_QUERY % "id name industry", first=50
    )
    assert crm_routes == {"GET /crm/v8/Sales_Orders": 1, "GET /crm/v8/Accounts": 1}
    strip = [
        {"id": n["customer"]["id"], "name": n["customer"]["name"]} for n in read["orders"]["nodes"]
    ]
    assert [n["customer"] for n in named["orders"]["nodes"]] == strip


async def test_the_contacts_search_runs_only_when_email_is_selected(
    gql: GraphQLClient, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    data, crm_routes, _ = await count_calls(
        gql, crm_emulator, scm_emulator, CUSTOMER_QUERY % "id email", first=50
    )
    assert crm_routes == {
        "GET /crm/v8/Sales_Orders": 1,
        "GET /crm/v8/Accounts": 1,
        "GET /crm/v8/Contacts/search": 1,
    }
    assert any(n["customer"]["email"] for n in data["orders"]["nodes"])


async def test_shipment_destinations_cost_one_address_call_only_when_selected(
    gql: GraphQLClient, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    query = """query Q($first: Int!) { orders(first: $first) { nodes {
        fulfillment shipments { id destination { city } } } } }"""
    data, _, scm_routes = await count_calls(gql, crm_emulator, scm_emulator, query, first=50)
    assert (
        scm_routes
        == scm_calls(
            "Sales Order",
            "Shipment",  # 50 CRM order ids each: POST get_list
            lists=(*SCM_LISTS[1:], "Address"),  # Address: shared by `shipments` and `fulfillment`
        )
    )
    shipments = [s for n in data["orders"]["nodes"] for s in n["shipments"]]
    assert any(s["destination"] for s in shipments)


async def test_shipment_lines_cost_two_delivery_note_calls_only_when_selected(
    gql: GraphQLClient, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    query = """query Q($first: Int!) { orders(first: $first) { nodes {
        fulfillment shipments { id lines { sku quantity } } } } }"""
    data, _, scm_routes = await count_calls(gql, crm_emulator, scm_emulator, query, first=50)
    # 50 CRM order ids each for mirrors and shipments: POST get_list; the shipments' names
    # and their delivery notes: POST as well once past ~1 KB
    lists = (*SCM_LISTS[1:], *LINE_LISTS)
    assert sum(scm_routes.values()) == len(lists)
    assert scm_routes.get(GET_LIST, 0) >= 2
    shipments = [s for n in data["orders"]["nodes"] for s in n["shipments"]]
    assert any(s["lines"] for s in shipments)
    without = """query Q($first: Int!) { orders(first: $first) { nodes {
        fulfillment lines { sku } shipments { id } } } }"""
    _, _, routes = await count_calls(gql, crm_emulator, scm_emulator, without, first=50)
    assert sum(routes.values()) == len(SCM_LISTS[1:])
