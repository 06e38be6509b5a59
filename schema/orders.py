"""Order and OrderLine: CRM sales orders joined to customers, products and SCM shipments."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry

from resolvers import records
from resolvers.fulfillment import derive_fulfillment
from resolvers.loaders import KeyedLoader
from schema.common import Money
from schema.context import Info
from schema.customers import Customer, from_lookup, load_customers
from schema.enums import FulfillmentStatus, OrderStatus
from schema.execution.batch_resolvers import batch_resolver, each, resolve_one
from schema.fields import resolver
from schema.prefetch import Outcome, let_io_progress, start
from schema.products import Product, load_product, load_products
from schema.selection import operation_reads, prefetches

if TYPE_CHECKING:
    from schema.shipments import Shipment

ShipmentRef = Annotated["Shipment", strawberry.lazy("schema.shipments")]


@strawberry.type(description="One line of a sales order.")
class OrderLine:
    record: strawberry.Private[records.OrderLine]
    sku: str = strawberry.field(description="The product's SKU.")
    quantity: float = strawberry.field(description="Quantity ordered.")
    preloaded: strawberry.Private[Outcome[Product] | None] = None

    @classmethod
    def of(cls, r: records.OrderLine, product: Outcome[Product] | None = None) -> OrderLine:
        return cls(record=r, sku=r.sku, quantity=float(r.quantity), preloaded=product)

    # Money is built when asked for: a view or a list that skips it does not pay for it.
    @resolver("Price per unit on this order.")
    def unit_price(self) -> Money:
        return Money.required(self.record.unit_price)

    @resolver("Line total.")
    def total(self) -> Money:
        return Money.required(self.record.total)

    @resolver("The product (CRM catalog merged with the SCM item).")
    def product(self, info: Info) -> Product | None:
        # graphql-core awaits an awaitable a resolver returns; the field type stays the same
        return cast("Product | None", self._product(info))

    def _product(self, info: Info) -> Product | Awaitable[Product | None] | None:
        if self.preloaded is not None:  # loaded with the order's other lines
            return self.preloaded.get()
        return load_product(info, self.sku)


@batch_resolver("OrderLine", "product")
def lines_products(lines: list[OrderLine], info: Info) -> list[Any]:
    return [each(line._product, info) for line in lines]


@strawberry.type(description="A sales order from the CRM (Zoho `Sales_Orders`).")
class Order:
    record: strawberry.Private[records.Order]
    id: strawberry.ID = strawberry.field(description="The CRM order id.")
    number: str = strawberry.field(description="The order number people quote.")
    status: OrderStatus = strawberry.field(description="The CRM status, canonical.")
    placed_at: datetime = strawberry.field(description="When the order was placed (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")

    @classmethod
    def of(cls, r: records.Order) -> Order:
        return cls(
            record=r,
            id=strawberry.ID(r.id),
            number=r.number,
            status=r.status,
            placed_at=r.placed_at,
            updated_at=r.updated_at,
        )

    @resolver("Sum of the lines before tax.")
    def subtotal(self) -> Money:
        return Money.required(self.record.subtotal)

    @resolver("Tax.")
    def tax(self) -> Money:
        return Money.required(self.record.tax)

    @resolver("Grand total.")
    def total(self) -> Money:
        return Money.required(self.record.total)

    @resolver("The ordered items.")
    async def lines(self, info: Info) -> list[OrderLine]:
        lines: list[OrderLine] = await resolve_one(order_lines, self, info)
        return lines

    @resolver("The customer who placed the order.")
    async def customer(self, info: Info) -> Customer | None:
        customer: Customer | None = await resolve_one(order_customers, self, info)
        return customer

    @resolver("Shipments for this order (SCM).")
    async def shipments(self, info: Info) -> list[ShipmentRef] | None:
        shipments: list[Shipment] | None = await resolve_one(order_shipments, self, info)
        return shipments

    @resolver("Fulfillment, derived from the ERP mirror and shipments (SCM).")
    async def fulfillment(self, info: Info) -> FulfillmentStatus | None:
        status: FulfillmentStatus | None = await resolve_one(order_fulfillment, self, info)
        return status


@batch_resolver("Order", "lines")
async def order_lines(orders: list[Order], info: Info) -> list[list[OrderLine]]:
    """Every order's lines; the products of all of them loaded at once when selected."""
    product = ("OrderLine", "product")
    skus = [line.sku for order in orders for line in order.record.lines]
    if not skus or not prefetches(info, product):
        return [[OrderLine.of(line) for line in order.record.lines] for order in orders]
    found = await load_products(info, skus, under=(product,))
    await let_io_progress()  # completing the lines is CPU-heavy; shipments' calls go first
    return [
        [OrderLine.of(line, found[line.sku]) for line in order.record.lines] for order in orders
    ]


@batch_resolver("Order", "customer")
def order_customers(orders: list[Order], info: Info) -> Any:
    """Every order's customer: from the order's account lookup when the query asks only its id
    and name, else read, all orders' accounts in one loader batch."""
    named: list[Any] = []
    missing: list[int] = []
    for index, order in enumerate(orders):
        r = order.record
        found = None if r.customer_id is None else from_lookup(info, r.customer_id, r.customer_name)
        if found is None and r.customer_id is not None:
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


@batch_resolver("Order", "shipments")
async def order_shipments(orders: list[Order], info: Info) -> list[Any]:
    """Every order's shipments from one loader batch; a failed load fails its order alone."""
    from schema.shipments import Shipment

    found = await shipments_loader(info).load_each(order.record.id for order in orders)
    return [
        each if isinstance(each, Exception) else [Shipment.of(s) for s in each or []]
        for each in found
    ]


@batch_resolver("Order", "fulfillment")
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


def shipments_loader(info: Info) -> KeyedLoader[str, list[records.Shipment]]:
    """Orders' shipments, with destinations and lines only if the operation may read them
    anywhere (a view that shows carriers and statuses skips two delivery-note calls)."""
    destination = operation_reads(info, "Shipment", "destination")
    lines = operation_reads(info, "Shipment", "lines")
    return info.context.loaders.order_shipments(with_destination=destination, with_lines=lines)


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
    found = await loaders.orders.load(order_id)
    return None if found is None else Order.of(found)
