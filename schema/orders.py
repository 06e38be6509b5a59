"""Customer, Order and Shipment: the order graph's three types, with their lines and joins.

Customers come from CRM accounts, orders from CRM sales orders, shipments from ERPNext
shipments and delivery notes. They live in one module because each links to the others (a
customer's orders; an order's customer and shipments; a shipment's order): split by type,
the modules would import each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

from resolvers import records
from resolvers.fulfillment import derive_fulfillment
from resolvers.loaders import KeyedLoader
from schema.columns import order_wanted, shipment_wanted
from schema.common import Address, Money
from schema.connections import Connection, connection_window, from_list, paginate
from schema.context import Info
from schema.enums import FulfillmentStatus, OrderStatus, ShipmentStatus
from schema.execution.batch_resolvers import batched, each
from schema.execution.record_fields import from_record, readable
from schema.fields import resolver
from schema.prefetch import Outcome, let_io_progress, start
from schema.products import Product, load_product, load_products
from schema.selection import operation_reads, prefetches, selected_names

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # never shown: only `id` and `name` are selected


# -- customers ---------------------------------------------------------------------------------


@readable
@strawberry.type(
    description="A customer account from the CRM (Zoho CRM `Accounts`).",
    directives=[Key(fields=FieldSet("id"))],
)
class Customer:
    record: strawberry.Private[records.Customer]
    id: strawberry.ID = from_record("id", "The CRM account id.")
    number: str | None = from_record("number", "The account number, if the CRM has one.")
    name: str = from_record("name", "The account's name.")
    industry: str | None = from_record("industry", "Industry, as the CRM names it.")
    website: str | None = from_record("website", "Website URL.")
    email: str | None = from_record("email", "Email of the primary contact. PII.")
    phone: str | None = from_record("phone", "Main phone number. PII.")
    billing_address: Address | None = strawberry.field(description="Billing address. PII.")
    shipping_address: Address | None = strawberry.field(description="Shipping address. PII.")
    credit_limit: Money | None = strawberry.field(description="Credit limit. Finance.")
    created_at: datetime = from_record("created_at", "When the account was created (UTC).")
    updated_at: datetime = from_record("updated_at", "When it last changed (UTC).")

    @classmethod
    def of(cls, r: records.Customer) -> Customer:
        return cls(
            record=r,
            billing_address=Address.of(r.billing_address),
            shipping_address=Address.of(r.shipping_address),
            credit_limit=Money.of(r.credit_limit),
        )

    @resolver("The customer's sales orders, newest first as the CRM lists.")
    async def orders(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        status: OrderStatus | None = None,
    ) -> Connection[Order] | None:
        ctx = info.context
        # a cursor resumes only this customer's listing, with the same status
        win = connection_window(
            info, "Customer.orders", first, after, id=self.record.id, status=status
        )
        wanted = order_wanted(info)
        if after is None:
            loader = ctx.loaders.orders_by_customer_for(wanted)
            found = await loader.load((self.record.id, status))
            return from_list(win, found or [], Order.of)

        async def fetch(size: int, source: str | None) -> records.Page[records.Order]:
            return await ctx.crm.list_orders(
                first=size, after=source, status=status, customer_id=self.record.id, wanted=wanted
            )

        return await paginate(win, fetch, Order.of)


# What a Zoho lookup (`Account_Name: {"name", "id"}`) answers without reading the account.
LOOKUP_FIELDS = frozenset({"id", "name", "__typename"})


def lookup_answers(info: Info) -> bool:
    """Whether an order's account lookup answers its customer: the query asks only `id` and
    `name`, and no row rule binds customers (else the account itself must be read)."""
    if "Customer" in info.context.row_filters:
        return False
    return selected_names(info) <= LOOKUP_FIELDS


def from_lookup(customer_id: str, name: str) -> Customer:
    """The customer as a record's account lookup names it."""
    return Customer.of(
        records.Customer(id=customer_id, name=name, created_at=EPOCH, updated_at=EPOCH)
    )


async def load_customer(info: Info, customer_id: str | None) -> Customer | None:
    """The customer by account id; the Contacts search runs only when `email` is selected."""
    if customer_id is None:
        return None
    found = (await load_customers(info, [customer_id]))[0]
    if isinstance(found, Exception):
        raise found
    return found


async def load_customers(info: Info, ids: list[str]) -> list[Customer | Exception | None]:
    """Customers by account id in one loader batch; a failed load fails its id alone."""
    loaders = info.context.loaders
    email = prefetches(info, ("Customer", "email"))
    loader = loaders.customers if email else loaders.accounts
    return [
        found if found is None or isinstance(found, Exception) else Customer.of(found)
        for found in await loader.load_each(ids)
    ]


# -- orders ------------------------------------------------------------------------------------


def lines_products(lines: list[OrderLine], info: Info) -> list[Any]:
    return [each(line._product, info) for line in lines]


@readable
@strawberry.type(description="One line of a sales order.")
class OrderLine:
    record: strawberry.Private[records.OrderLine]
    sku: str = from_record("sku", "The product's SKU.")
    quantity: float = strawberry.field(description="Quantity ordered.")
    preloaded: strawberry.Private[Outcome[Product] | None] = None

    @classmethod
    def of(cls, r: records.OrderLine, product: Outcome[Product] | None = None) -> OrderLine:
        return cls(record=r, quantity=float(r.quantity), preloaded=product)

    # Money is built when asked for: a view or a list that skips it does not pay for it.
    @resolver("Price per unit on this order.")
    def unit_price(self) -> Money:
        return Money.required(self.record.unit_price)

    @resolver("Line total.")
    def total(self) -> Money:
        return Money.required(self.record.total)

    product = batched(
        lines_products, "The product (CRM catalog merged with the SCM item).", "Product | None"
    )

    def _product(self, info: Info) -> Product | Awaitable[Product | None] | None:
        if self.preloaded is not None:  # loaded with the order's other lines
            return self.preloaded.get()
        hold_catalogs(info, (self.record,))
        return load_product(info, self.sku, referenced=True)


def hold_catalogs(info: Info, lines: Iterable[records.OrderLine]) -> None:
    """A line that holds its catalog product (read with the order) answers `product` from it:
    what the parent already holds costs no catalog call."""
    catalog_by_sku = info.context.loaders.catalog_by_sku
    for line in lines:
        if line.catalog is not None:
            catalog_by_sku.prime(line.sku, line.catalog)


async def order_lines(orders: list[Order], info: Info) -> list[list[OrderLine]]:
    """Every order's lines; the products of all of them loaded at once when selected."""
    product = ("OrderLine", "product")
    skus = [line.sku for order in orders for line in order.record.lines]
    if not skus or not prefetches(info, product):
        return [[OrderLine.of(line) for line in order.record.lines] for order in orders]
    hold_catalogs(info, (line for order in orders for line in order.record.lines))
    found = await load_products(info, skus, under=(product,), referenced=True)
    await let_io_progress()  # completing the lines is CPU-heavy; shipments' calls go first
    return [
        [OrderLine.of(line, found[line.sku]) for line in order.record.lines] for order in orders
    ]


def order_customers(orders: list[Order], info: Info) -> Any:
    """Every order's customer: from the order's account lookup when the query asks only its id
    and name, else read, all orders' accounts in one loader batch."""
    named: list[Any] = []
    missing: list[int] = []
    by_lookup = lookup_answers(info)  # asked once for the batch, not once per order
    built: dict[tuple[str, str], Customer] = {}  # one object per account in the batch
    for index, order in enumerate(orders):
        r = order.record
        found = None
        if r.customer_id is not None:
            if by_lookup and r.customer_name is not None:
                key = (r.customer_id, r.customer_name)
                found = built.get(key)
                if found is None:
                    found = built[key] = from_lookup(r.customer_id, r.customer_name)
            else:
                missing.append(index)
        named.append(found)
    if not missing:
        return named
    return _read_customers(orders, named, missing, info)


async def _read_customers(
    orders: list[Order], named: list[Any], missing: list[int], info: Info
) -> list[Any]:
    ids = [orders[index].record.customer_id or "" for index in missing]
    for index, found in zip(missing, await load_customers(info, ids), strict=True):
        named[index] = found
    return named


async def order_shipments(orders: list[Order], info: Info) -> list[Any]:
    """Every order's shipments from one loader batch; a failed load fails its order alone."""
    found = await shipments_loader(info).load_each(order.record.id for order in orders)
    return [
        each if isinstance(each, Exception) else [Shipment.of(s) for s in each or []]
        for each in found
    ]


async def order_fulfillment(orders: list[Order], info: Info) -> list[Any]:
    """Every order's fulfillment, from its ERP mirror and shipments (both batched)."""
    ids = [order.record.id for order in orders]
    mirrors, shipments = await asyncio.gather(
        info.context.loaders.erp_orders.load_each(ids), shipments_loader(info).load_each(ids)
    )
    return [_fulfillment(mirror, found) for mirror, found in zip(mirrors, shipments, strict=True)]


def _fulfillment(mirror: Any, shipments: Any) -> FulfillmentStatus | Exception | None:
    if isinstance(mirror, Exception):
        return mirror
    if isinstance(shipments, Exception):
        return shipments
    return derive_fulfillment(mirror, shipments or [])


@readable
@strawberry.type(
    description="A sales order from the CRM (Zoho `Sales_Orders`).",
    directives=[Key(fields=FieldSet("id")), Key(fields=FieldSet("number"))],
)
class Order:
    record: strawberry.Private[records.Order]
    id: strawberry.ID = from_record("id", "The CRM order id.")
    number: str = from_record("number", "The order number people quote.")
    status: OrderStatus = from_record("status", "The CRM status, canonical.")
    placed_at: datetime = from_record("placed_at", "When the order was placed (UTC).")
    updated_at: datetime = from_record("updated_at", "When it last changed (UTC).")

    @classmethod
    def of(cls, r: records.Order) -> Order:
        return cls(record=r)

    @resolver("Sum of the lines before tax.")
    def subtotal(self) -> Money:
        return Money.required(self.record.subtotal)

    @resolver("Tax.")
    def tax(self) -> Money:
        return Money.required(self.record.tax)

    @resolver("Grand total.")
    def total(self) -> Money:
        return Money.required(self.record.total)

    lines = batched(order_lines, "The ordered items.", "list[OrderLine]")
    customer = batched(order_customers, "The customer who placed the order.", "Customer | None")
    shipments = batched(order_shipments, "Shipments for this order (SCM).", "list[Shipment] | None")
    fulfillment = batched(
        order_fulfillment,
        "Fulfillment, derived from the ERP mirror and shipments (SCM).",
        "FulfillmentStatus | None",
    )


def shipments_loader(info: Info) -> KeyedLoader[str, list[records.Shipment]]:
    """Orders' shipments, with destinations and lines only if the operation may read them
    anywhere (a view that shows carriers and statuses skips two delivery-note calls)."""
    destination = operation_reads(info, "Shipment", "destination")
    lines = operation_reads(info, "Shipment", "lines")
    loaders, wanted = info.context.loaders, shipment_wanted(info)
    return loaders.order_shipments(with_destination=destination, with_lines=lines, wanted=wanted)


async def load_order(info: Info, order_id: str | None) -> Order | None:
    """The order by CRM id; its SCM joins (shipments, ERP mirror) start at the same time when
    selected, since they are keyed by the same id: the order page waits for one round trip
    less."""
    if order_id is None:
        return None
    loaders = info.context.loaders
    fulfillment = prefetches(info, ("Order", "fulfillment"))
    if fulfillment or prefetches(info, ("Order", "shipments")):
        start(shipments_loader(info).load(order_id))
    if fulfillment:
        start(loaders.erp_orders.load(order_id))
    found = await loaders.orders_for(order_wanted(info)).load(order_id)
    return None if found is None else Order.of(found)


# -- shipments ---------------------------------------------------------------------------------


@strawberry.type(description="A product and quantity in a shipment.")
class ShipmentLine:
    sku: str = strawberry.field(description="The product's SKU.")
    quantity: float = strawberry.field(description="Quantity shipped.")

    @resolver("The product (CRM catalog merged with the SCM item).")
    async def product(self, info: Info) -> Product | None:
        return await load_product(info, self.sku, referenced=True)


@readable
@strawberry.type(
    description="A shipment from the SCM (ERPNext `Shipment` and delivery notes).",
    directives=[Key(fields=FieldSet("id"))],
)
class Shipment:
    record: strawberry.Private[records.Shipment]
    id: strawberry.ID = from_record("id", "The ERPNext shipment name.")
    carrier: str | None = from_record("carrier", "The carrier, e.g. DHL.")
    service: str | None = from_record("service", "The carrier's service level.")
    tracking_number: str | None = from_record("tracking_number", "The carrier's tracking number.")
    tracking_url: str | None = from_record("tracking_url", "Where to track it.")
    status: ShipmentStatus = from_record("status", "Canonical shipment status.")
    pickup_date: str | None = from_record("pickup_date", "Pickup date, YYYY-MM-DD.")
    destination: Address | None = strawberry.field(description="Where it goes. PII.")
    lines: list[ShipmentLine] = strawberry.field(description="What it carries.")
    value: Money | None = strawberry.field(description="Declared value of the goods.")

    @classmethod
    def of(cls, r: records.Shipment) -> Shipment:
        return cls(
            record=r,
            destination=Address.of(r.destination),
            lines=[ShipmentLine(sku=line.sku, quantity=float(line.quantity)) for line in r.lines],
            value=Money.of(r.value),
        )

    @resolver("The CRM order number it ships (from the CRM when ERPNext lacks it).")
    async def order_number(self, info: Info) -> str | None:
        if self.record.order_number is not None or self.record.order_id is None:
            return self.record.order_number
        order = await info.context.loaders.orders_for(order_wanted(info)).load(self.record.order_id)
        return None if order is None else order.number

    @resolver("The CRM order this shipment delivers.")
    async def order(self, info: Info) -> Order | None:
        return await load_order(info, self.record.order_id)


async def load_shipment(info: Info, shipment_id: str) -> Shipment | None:
    """The shipment by name; its destination (the Address call) only if the operation may
    read it."""
    destination = operation_reads(info, "Shipment", "destination")
    loader = info.context.loaders.shipment_by_id(
        with_destination=destination, wanted=shipment_wanted(info)
    )
    found = await loader.load(shipment_id)
    return None if found is None else Shipment.of(found)
