"""A test double of the Crossdock graph: the DESIGN.md contract over in-memory rows.

Every field resolver counts its calls in `ContractContext.calls` ("Customer.email": 2), so
a test can prove that a denied field cost no resolver call. Shipment resolvers honour
`context.row_filters` the way the real loaders push them into the Frappe query.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from schema.principal import ANONYMOUS, Principal


@dataclass
class ContractContext:
    """The per-request context the access extension reads and the resolvers count into."""

    principal: Principal = ANONYMOUS
    row_filters: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)


def col(key: str, kind: Any) -> Any:
    """A field read from the row dict `root.row[key]`, counting the call."""

    def resolve(root: Any, info: strawberry.Info) -> Any:
        info.context.calls[f"{info._raw_info.parent_type.name}.{info.field_name}"] += 1
        return root.row.get(key)

    resolve.__annotations__["return"] = kind
    return strawberry.field(resolver=resolve)


def acol(key: str, kind: Any) -> Any:
    """`col`, but async like the real loaders: masks and re-checks must handle awaitables."""

    async def resolve(root: Any, info: strawberry.Info) -> Any:
        info.context.calls[f"{info._raw_info.parent_type.name}.{info.field_name}"] += 1
        return root.row.get(key)

    resolve.__annotations__["return"] = kind
    return strawberry.field(resolver=resolve)


def rel(kind: Any, fetch: Callable[[Any, Any], Any]) -> Any:
    """A field computed by `fetch(root, context)`, counting the call."""

    def resolve(root: Any, info: strawberry.Info) -> Any:
        info.context.calls[f"{info._raw_info.parent_type.name}.{info.field_name}"] += 1
        return fetch(root, info.context)

    resolve.__annotations__["return"] = kind
    return strawberry.field(resolver=resolve)


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


def _product(sku: str) -> Product | None:
    return next((Product(row=p) for p in PRODUCTS if p["sku"] == sku), None)


@strawberry.type
class OrderLine:
    row: strawberry.Private[dict[str, Any]]
    sku: str = col("sku", str)
    product: Product | None = rel(Product | None, lambda r, c: _product(r.row["sku"]))
    quantity: float = col("quantity", float)
    unit_price: Money = rel(Money, lambda r, c: Money(row=MONEY))
    total: Money = rel(Money, lambda r, c: Money(row=MONEY))


@strawberry.type
class ShipmentLine:
    row: strawberry.Private[dict[str, Any]]
    sku: str = col("sku", str)
    product: Product | None = rel(Product | None, lambda r, c: _product(r.row["sku"]))
    quantity: float = col("quantity", float)


def _visible(context: ContractContext, row: Mapping[str, Any]) -> bool:
    """What the real loaders do with a row filter: a None value hides every row."""
    for key, wanted in context.row_filters.get("Shipment", {}).items():
        if wanted is None or row.get(key) != wanted:
            return False
    return True


def _shipments(context: ContractContext, order_id: str | None = None) -> list[Shipment]:
    rows = [s for s in SHIPMENTS if order_id in (None, s["order"]) and _visible(context, s)]
    return [Shipment.of(s) for s in rows]


@strawberry.type
class Shipment:
    row: strawberry.Private[dict[str, Any]]
    id: strawberry.ID = col("id", strawberry.ID)
    order: Order | None = rel("Order | None", lambda r, c: _order(r.row["order"]))
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


LINE = {"sku": "SKU-1", "quantity": 2.0}


@strawberry.type
class Order:
    row: strawberry.Private[dict[str, Any]]
    id: strawberry.ID = col("id", strawberry.ID)
    number: str = col("number", str)
    status: str = rel(str, lambda r, c: "APPROVED")
    customer: Customer | None = rel("Customer | None", lambda r, c: _customer(r.row["customer"]))
    lines: list[OrderLine] = rel(list[OrderLine], lambda r, c: [OrderLine(row=LINE)])
    subtotal: Money = rel(Money, lambda r, c: Money(row=MONEY))
    tax: Money = rel(Money, lambda r, c: Money(row=MONEY))
    total: Money = rel(Money, lambda r, c: Money(row=MONEY))
    placed_at: str = rel(str, lambda r, c: "2026-03-01T10:00:00Z")
    updated_at: str = rel(str, lambda r, c: "2026-03-01T10:00:00Z")
    shipments: list[Shipment] | None = rel(
        list[Shipment] | None, lambda r, c: _shipments(c, r.row["id"])
    )
    fulfillment: str | None = rel(str | None, lambda r, c: "RESERVED")


def _order(order_id: str) -> Order | None:
    return next((Order(row=o) for o in ORDERS if o["id"] == order_id), None)


def _customer(customer_id: str) -> Customer | None:
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


def _order_connection(orders: Sequence[Order]) -> OrderConnection:
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
        lambda r, c: _order_connection(
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


@strawberry.type
class Viewer:
    subject: str | None
    roles: list[str]
    scopes: list[str]
    partner_id: str | None


@strawberry.type
class OrderProcess:
    id: strawberry.ID
    status: str


@strawberry.type
class PlaceOrderResult:
    process_id: str
    status: str
    order: Order | None


def _hit(info: strawberry.Info) -> ContractContext:
    context: ContractContext = info.context
    context.calls[f"{info._raw_info.parent_type.name}.{info.field_name}"] += 1
    return context


@strawberry.type
class Query:
    @strawberry.field
    def customer(self, info: strawberry.Info, id: strawberry.ID) -> Customer | None:
        _hit(info)
        return _customer(str(id))

    @strawberry.field
    def customers(
        self, info: strawberry.Info, first: int = 20, after: str | None = None
    ) -> CustomerConnection | None:
        _hit(info)
        nodes = [Customer(row=c) for c in CUSTOMERS[:first]]
        edges = [CustomerEdge(cursor=c.row["id"], node=c) for c in nodes]
        return CustomerConnection(edges=edges, nodes=nodes, page_info=PageInfo())

    @strawberry.field
    def order(
        self, info: strawberry.Info, id: strawberry.ID | None = None, number: str | None = None
    ) -> Order | None:
        _hit(info)
        return _order(str(id))

    @strawberry.field
    def orders(self, info: strawberry.Info, first: int = 20) -> OrderConnection | None:
        _hit(info)
        return _order_connection([Order(row=o) for o in ORDERS[:first]])

    @strawberry.field
    def product(self, info: strawberry.Info, sku: strawberry.ID) -> Product | None:
        _hit(info)
        return _product(str(sku))

    @strawberry.field
    def products(self, info: strawberry.Info, first: int = 20) -> ProductConnection | None:
        _hit(info)
        nodes = [Product(row=p) for p in PRODUCTS[:first]]
        edges = [ProductEdge(cursor=p.row["sku"], node=p) for p in nodes]
        return ProductConnection(edges=edges, nodes=nodes, page_info=PageInfo())

    @strawberry.field
    def warehouses(self, info: strawberry.Info) -> list[Warehouse] | None:
        _hit(info)
        return [Warehouse(row=w) for w in WAREHOUSES]

    @strawberry.field
    async def shipment(self, info: strawberry.Info, id: strawberry.ID) -> Shipment | None:
        found = [s for s in _shipments(_hit(info)) if s.row["id"] == str(id)]
        return found[0] if found else None

    @strawberry.field
    async def shipments(
        self, info: strawberry.Info, first: int = 20, carrier: str | None = None
    ) -> ShipmentConnection | None:
        nodes = [s for s in _shipments(_hit(info)) if carrier in (None, s.carrier)][:first]
        edges = [ShipmentEdge(cursor=s.row["id"], node=s) for s in nodes]
        return ShipmentConnection(edges=edges, nodes=nodes, page_info=PageInfo())

    @strawberry.field
    def viewer(self, info: strawberry.Info) -> Viewer:
        p = _hit(info).principal
        return Viewer(
            subject=p.subject,
            roles=sorted(p.roles),
            scopes=sorted(p.scopes),
            partner_id=p.partner_id,
        )

    @strawberry.field
    def order_process(self, info: strawberry.Info, id: strawberry.ID) -> OrderProcess | None:
        _hit(info)
        return OrderProcess(id=id, status="COMPLETED")


@strawberry.type
class Mutation:
    @strawberry.mutation
    def place_order(self, info: strawberry.Info, sku: str, quantity: int) -> PlaceOrderResult:
        _hit(info)
        return PlaceOrderResult(process_id="P1", status="APPROVED", order=_order("O1"))

    @strawberry.mutation
    def approve_order(self, info: strawberry.Info, id: strawberry.ID) -> PlaceOrderResult:
        _hit(info)
        return PlaceOrderResult(process_id="P1", status="APPROVED", order=_order(str(id)))

    @strawberry.mutation
    def cancel_order(self, info: strawberry.Info, id: strawberry.ID) -> PlaceOrderResult:
        _hit(info)
        return PlaceOrderResult(process_id="P1", status="CANCELLED", order=_order(str(id)))


def contract_schema(extensions: Sequence[type[SchemaExtension]] = ()) -> strawberry.Schema:
    """The contract graph with the given extensions (e.g. the access extension)."""
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=list(extensions))


async def run(
    schema: strawberry.Schema,
    query: str,
    principal: Principal = ANONYMOUS,
    variables: dict[str, Any] | None = None,
) -> tuple[ExecutionResult, ContractContext]:
    """Execute `query` as `principal`; the context tells which resolvers ran."""
    context = ContractContext(principal=principal)
    result = await schema.execute(query, variable_values=variables, context_value=context)
    return result, context


def principal_for(role: str, policy: Any, *, partner_id: str | None = "DHL") -> Principal:
    """A verified caller holding one role, as the authenticator would build it."""
    claims = {"sub": f"user-{role}", "roles": [role]}
    if role == "partner" and partner_id is not None:
        claims["partner_id"] = partner_id
    return Principal(
        subject=f"user-{role}",
        roles=frozenset({role}),
        scopes=policy.scopes_of_roles({role}),
        partner_id=partner_id if role == "partner" else None,
        claims=claims,
    )
