"""The object types of the contract test double (DESIGN.md names) over in-memory rows.

Shipment resolvers honour `context.resolver_filters()` the way the real loaders push them into the
Frappe query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import strawberry

from tests.gateway.contract_fields import ContractContext, acol, col, rel

ADDRESS = {"street": "1 Main St", "city": "Berlin", "postalCode": "10115", "country": "DE"}
MONEY = {"amount": "100.00", "currency": "EUR"}
CUSTOMERS = [
    {"id": "C1", "name": "Acme", "email": "jane.doe@example.com", "phone": "+49 30 1234"},
    {"id": "C2", "name": "Globex", "email": "max@globex.example", "phone": "+1 555 0100"},
]
ORDERS = [
    {"id": "O1", "number": "SO-1", "customer": "C1"},
    {"id": "O2", "number": "SO-2", "customer": "C2"},
]
PRODUCTS = [{"sku": "SKU-1", "name": "Pallet jack"}, {"sku": "SKU-2", "name": "Forklift"}]
LINE = {"sku": "SKU-1", "quantity": 2.0}
WAREHOUSES = [{"id": "Stores - AC", "name": "Stores", "company": "AC"}]
SHIPMENTS = [
    {"id": "SHIP-1", "order": "O1", "carrier": "DHL", "status": "BOOKED"},
    {"id": "SHIP-2", "order": "O2", "carrier": "UPS", "status": "IN_TRANSIT"},
]


@strawberry.type
class Money:
    row: strawberry.Private[dict[str, Any]]
    amount: str = col("amount", str)
    currency: str = col("currency", str)


@strawberry.type
class Address:
    row: strawberry.Private[dict[str, Any]]
    street: str | None = col("street", str | None)
    city: str | None = col("city", str | None)
    region: str | None = col("region", str | None)
    postal_code: str | None = col("postalCode", str | None)
    country: str | None = col("country", str | None)


@strawberry.type
class PageInfo:
    has_next_page: bool = False
    end_cursor: str | None = None


@strawberry.type
class Warehouse:
    row: strawberry.Private[dict[str, Any]]
    id: strawberry.ID = col("id", strawberry.ID)
    name: str = col("name", str)
    company: str | None = col("company", str | None)


@strawberry.type
class StockLevel:
    row: strawberry.Private[dict[str, Any]]
    warehouse: Warehouse = rel(Warehouse, lambda r, c: Warehouse(row=WAREHOUSES[0]))
    on_hand: float = col("onHand", float)
    reserved: float = col("reserved", float)
    available: float = col("available", float)
    projected: float = col("projected", float)


STOCK = {"onHand": 10.0, "reserved": 2.0, "available": 8.0, "projected": 8.0}


@strawberry.type
class Product:
    row: strawberry.Private[dict[str, Any]]
    sku: strawberry.ID = col("sku", strawberry.ID)
    name: str = col("name", str)
    description: str | None = col("description", str | None)
    active: bool = rel(bool, lambda r, c: True)
    uom: str | None = col("uom", str | None)
    list_price: Money | None = rel(Money | None, lambda r, c: Money(row=MONEY))
    unit_cost: Money | None = rel(Money | None, lambda r, c: Money(row=MONEY))
    stock: list[StockLevel] | None = rel(
        list[StockLevel] | None, lambda r, c: [StockLevel(row=STOCK)]
    )
    available: float | None = rel(float | None, lambda r, c: 8.0)


def find_product(sku: str) -> Product | None:
    return next((Product(row=p) for p in PRODUCTS if p["sku"] == sku), None)


@strawberry.type
class OrderLine:
    row: strawberry.Private[dict[str, Any]]
    sku: str = col("sku", str)
    product: Product | None = rel(Product | None, lambda r, c: find_product(r.row["sku"]))
    quantity: float = col("quantity", float)
    unit_price: Money = rel(Money, lambda r, c: Money(row=MONEY))
    total: Money = rel(Money, lambda r, c: Money(row=MONEY))


@strawberry.type
class ShipmentLine:
    row: strawberry.Private[dict[str, Any]]
    sku: str = col("sku", str)
    product: Product | None = rel(Product | None, lambda r, c: find_product(r.row["sku"]))
    quantity: float = col("quantity", float)


def _visible(context: ContractContext, row: Mapping[str, Any]) -> bool:
    """What the real loaders do with a row filter: a None value hides every row."""
    for key, wanted in context.resolver_filters().get("Shipment", {}).items():
        if wanted is None or row.get(key) != wanted:
            return False
    return True


def visible_shipments(context: ContractContext, order_id: str | None = None) -> list[Shipment]:
    rows = [s for s in SHIPMENTS if order_id in (None, s["order"]) and _visible(context, s)]
    return [Shipment.of(s) for s in rows]


@strawberry.type
class Shipment:
    row: strawberry.Private[dict[str, Any]]
    id: strawberry.ID = col("id", strawberry.ID)
    order: Order | None = rel("Order | None", lambda r, c: find_order(r.row["order"]))
    order_number: str | None = rel(str | None, lambda r, c: r.row["order"].replace("O", "SO-"))
    carrier: str | None = None  # a plain attribute, like the real schema's Shipment
    service: str | None = col("service", str | None)
    tracking_number: str | None = col("trackingNumber", str | None)
    tracking_url: str | None = col("trackingUrl", str | None)
    status: str = col("status", str)
    pickup_date: str | None = col("pickupDate", str | None)
    destination: Address | None = rel(Address | None, lambda r, c: Address(row=ADDRESS))
    lines: list[ShipmentLine] = rel(list[ShipmentLine], lambda r, c: [ShipmentLine(row=LINE)])
    value: Money | None = rel(Money | None, lambda r, c: Money(row=MONEY))

    @classmethod
    def of(cls, row: dict[str, Any]) -> Shipment:
        return cls(row=row, carrier=row["carrier"])


@strawberry.type
class Order:
    row: strawberry.Private[dict[str, Any]]
    id: strawberry.ID = col("id", strawberry.ID)
    number: str = col("number", str)
    status: str = rel(str, lambda r, c: "APPROVED")
    customer: Customer | None = rel(
        "Customer | None", lambda r, c: find_customer(r.row["customer"])
    )
    lines: list[OrderLine] = rel(list[OrderLine], lambda r, c: [OrderLine(row=LINE)])
    subtotal: Money = rel(Money, lambda r, c: Money(row=MONEY))
    tax: Money = rel(Money, lambda r, c: Money(row=MONEY))
    total: Money = rel(Money, lambda r, c: Money(row=MONEY))
    placed_at: str = rel(str, lambda r, c: "2026-03-01T10:00:00Z")
    updated_at: str = rel(str, lambda r, c: "2026-03-01T10:00:00Z")
    shipments: list[Shipment] | None = rel(
        list[Shipment] | None, lambda r, c: visible_shipments(c, r.row["id"])
    )
    fulfillment: str | None = rel(str | None, lambda r, c: "RESERVED")


def find_order(order_id: str) -> Order | None:
    return next((Order(row=o) for o in ORDERS if o["id"] == order_id), None)


def find_customer(customer_id: str) -> Customer | None:
    return next((Customer(row=c) for c in CUSTOMERS if c["id"] == customer_id), None)


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    nodes: list[Order]
    page_info: PageInfo


def order_connection(orders: Sequence[Order]) -> OrderConnection:
    edges = [OrderEdge(cursor=o.row["id"], node=o) for o in orders]
    return OrderConnection(edges=edges, nodes=list(orders), page_info=PageInfo())


@strawberry.type
class Customer:
    row: strawberry.Private[dict[str, Any]]
    id: strawberry.ID = col("id", strawberry.ID)
    number: str | None = col("number", str | None)
    name: str = col("name", str)
    industry: str | None = col("industry", str | None)
    website: str | None = col("website", str | None)
    email: str | None = acol("email", str | None)
    phone: str | None = col("phone", str | None)
    billing_address: Address | None = rel(Address | None, lambda r, c: Address(row=ADDRESS))
    shipping_address: Address | None = rel(Address | None, lambda r, c: Address(row=ADDRESS))
    credit_limit: Money | None = rel(Money | None, lambda r, c: Money(row=MONEY))
    created_at: str = rel(str, lambda r, c: "2026-01-01T00:00:00Z")
    updated_at: str = rel(str, lambda r, c: "2026-01-01T00:00:00Z")
    orders: OrderConnection | None = rel(
        OrderConnection | None,
        lambda r, c: order_connection(
            [Order(row=o) for o in ORDERS if o["customer"] == r.row["id"]]
        ),
    )


@strawberry.type
class CustomerEdge:
    cursor: str
    node: Customer


@strawberry.type
class CustomerConnection:
    edges: list[CustomerEdge]
    nodes: list[Customer]
    page_info: PageInfo


@strawberry.type
class ProductEdge:
    cursor: str
    node: Product


@strawberry.type
class ProductConnection:
    edges: list[ProductEdge]
    nodes: list[Product]
    page_info: PageInfo


@strawberry.type
class ShipmentEdge:
    cursor: str
    node: Shipment


@strawberry.type
class ShipmentConnection:
    edges: list[ShipmentEdge]
    nodes: list[Shipment]
    page_info: PageInfo
