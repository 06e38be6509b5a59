"""Every root field of the contract, end to end through the gateway over both emulations."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from backends.zoho.app import ZohoEmulator
from tests.support.stack import ClientFor, GraphQLClient, SeededStores

RFC3339_UTC = "%Y-%m-%dT%H:%M:%SZ"


def zoho_first(stores: SeededStores, module: str) -> dict[str, Any]:
    record: dict[str, Any] = stores.zoho.select(module, "1", [], limit=1)[0]
    return record


def as_utc(zoho_time: str) -> str:
    return datetime.fromisoformat(zoho_time).astimezone(UTC).strftime(RFC3339_UTC)


async def test_customer_by_id_has_canonical_times_countries_and_money(
    gql: GraphQLClient, seeded_stores: SeededStores
) -> None:
    raw = zoho_first(seeded_stores, "Accounts")  # Zoho sends "+05:30" times and country names
    data = await gql.data(
        """query($id: ID!) { customer(id: $id) { id name createdAt updatedAt
             billingAddress { country } creditLimit { amount currency } } }""",
        id=raw["id"],
    )
    customer = data["customer"]
    assert customer["name"] == raw["Account_Name"]
    assert customer["createdAt"] == as_utc(raw["Created_Time"])
    assert customer["updatedAt"].endswith("Z")
    assert customer["billingAddress"]["country"] == "CA"  # seeded as "Canada"
    assert raw["Billing_Country"] == "Canada"
    assert isinstance(customer["creditLimit"]["amount"], str)
    assert Decimal(customer["creditLimit"]["amount"]) == Decimal(str(raw["Credit_Limit"]))


async def test_an_unknown_customer_is_null_without_error(gql: GraphQLClient) -> None:
    body = await gql.query('{ customer(id: "4150868999999999999") { id } }')
    assert body == {"data": {"customer": None}}


async def test_customers_search_is_pushed_to_the_crm(
    gql: GraphQLClient, crm_emulator: ZohoEmulator, seeded_stores: SeededStores
) -> None:
    name = zoho_first(seeded_stores, "Accounts")["Account_Name"]
    data = await gql.data(
        "query($s: String) { customers(first: 5, search: $s) { nodes { name } } }", s=name
    )
    assert name in [node["name"] for node in data["customers"]["nodes"]]
    assert "GET /crm/v8/Accounts/search" in crm_emulator.stats.snapshot()["routes"]


async def test_order_by_id_and_by_number_are_the_same_order(gql: GraphQLClient) -> None:
    first = await gql.data("{ orders(first: 1) { nodes { id number } } }")
    order = first["orders"]["nodes"][0]
    query = """query($id: ID, $n: String) { byId: order(id: $id) { id number }
                                             byNumber: order(number: $n) { id number } }"""
    data = await gql.data(query, id=order["id"], n=order["number"])
    assert data["byId"] == data["byNumber"] == order


async def test_order_needs_exactly_one_of_id_or_number(gql: GraphQLClient) -> None:
    body = await gql.query("{ order { id } }")
    assert body["data"] == {"order": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["path"] == ["order"]


async def test_an_order_page_joins_customer_products_stock_and_shipments(
    gql: GraphQLClient,
) -> None:
    data = await gql.data(
        """{ orders(first: 40) { nodes { number placedAt total { amount currency }
               customer { name }
               lines { sku product { sku name listPrice { amount } unitCost { amount } available } }
               shipments { id order { number } lines { sku product { sku } } }
               fulfillment } } }"""
    )
    orders = data["orders"]["nodes"]
    assert all(o["customer"] is not None for o in orders)
    assert all(o["placedAt"].endswith("Z") for o in orders)
    lines = [line for o in orders for line in o["lines"]]
    assert all(line["product"]["sku"] == line["sku"] for line in lines)
    assert all(line["product"]["unitCost"] is not None for line in lines)  # the ERP half
    assert all(line["product"]["listPrice"] is not None for line in lines)  # the CRM half
    shipped = [o for o in orders if o["shipments"]]
    assert shipped, "the seed ships a share of orders"
    for order in shipped:
        for shipment in order["shipments"]:
            assert shipment["order"]["number"] == order["number"]  # SCM -> CRM and back
        assert order["fulfillment"] != "UNFULFILLED"


async def test_orders_filtered_by_status_and_customer_are_filtered_in_the_crm(
    gql: GraphQLClient, crm_emulator: ZohoEmulator
) -> None:
    some = await gql.data("{ orders(first: 1) { nodes { customer { id } } } }")
    customer_id = some["orders"]["nodes"][0]["customer"]["id"]
    crm_emulator.stats.reset()
    data = await gql.data(
        """query($c: ID) { orders(first: 50, status: DELIVERED, customerId: $c) {
             nodes { status customer { id } } } }""",
        c=customer_id,
    )
    nodes = data["orders"]["nodes"]
    assert nodes
    assert {n["status"] for n in nodes} == {"DELIVERED"}
    assert {n["customer"]["id"] for n in nodes} == {customer_id}
    routes = crm_emulator.stats.snapshot()["routes"]
    assert routes.get("GET /crm/v8/Sales_Orders/search") == 1  # one criteria search, no scan


async def test_a_customers_orders_match_the_orders_filtered_by_customer(gql: GraphQLClient) -> None:
    some = await gql.data("{ orders(first: 1) { nodes { customer { id } } } }")
    customer_id = some["orders"]["nodes"][0]["customer"]["id"]
    data = await gql.data(
        """query($c: ID!) { customer(id: $c) { orders(first: 100) { nodes { id } } }
                            orders(first: 100, customerId: $c) { nodes { id } } }""",
        c=customer_id,
    )
    via_customer = {n["id"] for n in data["customer"]["orders"]["nodes"]}
    via_root = {n["id"] for n in data["orders"]["nodes"]}
    assert via_customer == via_root


async def test_product_merges_the_crm_and_erp_halves_by_sku(gql: GraphQLClient) -> None:
    data = await gql.data(
        """{ product(sku: "SKU-00001") { sku name active uom listPrice { amount currency }
               unitCost { amount currency } available
               stock { onHand reserved available projected warehouse { id name } } } }"""
    )
    product = data["product"]
    assert product["sku"] == "SKU-00001"
    assert product["name"]
    assert product["active"] is True
    assert product["listPrice"]["currency"] == product["unitCost"]["currency"] == "USD"
    assert product["available"] == sum(level["available"] for level in product["stock"])
    assert all(level["warehouse"]["name"] for level in product["stock"])


async def test_an_unknown_sku_is_a_null_product(gql: GraphQLClient) -> None:
    assert await gql.data('{ product(sku: "NOPE-1") { sku } }') == {"product": None}


async def test_products_lists_the_catalog(gql: GraphQLClient) -> None:
    data = await gql.data("{ products(first: 100) { nodes { sku name listPrice { amount } } } }")
    skus = [node["sku"] for node in data["products"]["nodes"]]
    assert len(skus) == len(set(skus)) >= 5


async def test_warehouses_lists_every_erp_warehouse(
    gql: GraphQLClient, seeded_stores: SeededStores
) -> None:
    data = await gql.data("{ warehouses { id name company } }")
    names = {
        row["name"]
        for row in seeded_stores.erp.query('SELECT name FROM "tabWarehouse" WHERE is_group = 0')
    }
    assert {w["id"] for w in data["warehouses"]} == names


async def test_shipment_by_id_links_back_to_its_crm_order(gql: GraphQLClient) -> None:
    data = await gql.data("""{ shipments(first: 1) { nodes { id } } }""")
    shipment_id = data["shipments"]["nodes"][0]["id"]
    one = await gql.data(
        """query($id: ID!) { shipment(id: $id) { id status carrier orderNumber
             destination { country } value { amount currency }
             order { number customer { name } } lines { sku quantity product { name } } } }""",
        id=shipment_id,
    )
    shipment = one["shipment"]
    assert shipment["id"] == shipment_id
    assert shipment["order"]["number"] == shipment["orderNumber"]
    assert shipment["lines"]
    assert all(line["product"]["name"] for line in shipment["lines"])
    country = shipment["destination"]["country"]
    assert country is None or len(country) == 2


async def test_shipments_filtered_by_carrier_and_status(gql: GraphQLClient) -> None:
    data = await gql.data(
        """{ shipments(first: 100, carrier: "DHL", status: DELIVERED) {
               nodes { carrier status } } }"""
    )
    nodes = data["shipments"]["nodes"]
    assert nodes
    assert {(n["carrier"], n["status"]) for n in nodes} == {("DHL", "DELIVERED")}


async def test_viewer_is_the_principal_the_bearer_token_names(
    client_for: ClientFor,
) -> None:
    partner = client_for("partner", partner_id="DHL")
    data = await partner.data("{ viewer { subject roles scopes partnerId } }")
    assert data == {
        "viewer": {
            "subject": "test-partner",
            "roles": ["partner"],
            "scopes": ["address:read", "catalog:read", "shipments:read"],
            "partnerId": "DHL",
        }
    }
