"""Order and OrderLine: CRM sales orders joined to customers, products and SCM shipments."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, cast

import strawberry

from resolvers import records
from resolvers.fulfillment import derive_fulfillment
from resolvers.loaders import KeyedLoader
from schema.common import Money
from schema.context import Info
from schema.customers import Customer, from_lookup, load_customer
from schema.enums import FulfillmentStatus, OrderStatus
from schema.fields import resolver
from schema.prefetch import Outcome, let_io_progress, start
from schema.products import Product, load_product, load_products
from schema.selection import operation_reads, prefetches

if TYPE_CHECKING:
    from schema.shipments import Shipment

ShipmentRef = Annotated["Shipment", strawberry.lazy("schema.shipments")]


@strawberry.type(description="One line of a sales order.")
class OrderLine:
    sku: str = strawberry.field(description="The product's SKU.")
    quantity: float = strawberry.field(description="Quantity ordered.")
    unit_price: Money = strawberry.field(description="Price per unit on this order.")
    total: Money = strawberry.field(description="Line total.")
    preloaded: strawberry.Private[Outcome[Product] | None] = None

    @classmethod
    def of(cls, r: records.OrderLine, product: Outcome[Product] | None = None) -> OrderLine:
        return cls(
            sku=r.sku,
            quantity=float(r.quantity),
            unit_price=Money.required(r.unit_price),
            total=Money.required(r.total),
            preloaded=product,
        )

    @resolver("The product (CRM catalog merged with the SCM item).")
    def product(self, info: Info) -> Product | None:
        if self.preloaded is not None:  # loaded with the order's other lines
            return self.preloaded.get()
        # graphql-core awaits an awaitable a resolver returns; the field type stays the same
        return cast("Product | None", load_product(info, self.sku))


@strawberry.type(description="A sales order from the CRM (Zoho `Sales_Orders`).")
class Order:
    record: strawberry.Private[records.Order]
    id: strawberry.ID = strawberry.field(description="The CRM order id.")
    number: str = strawberry.field(description="The order number people quote.")
    status: OrderStatus = strawberry.field(description="The CRM status, canonical.")
    subtotal: Money = strawberry.field(description="Sum of the lines before tax.")
    tax: Money = strawberry.field(description="Tax.")
    total: Money = strawberry.field(description="Grand total.")
    placed_at: datetime = strawberry.field(description="When the order was placed (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")

    @classmethod
    def of(cls, r: records.Order) -> Order:
        return cls(
            record=r,
            id=strawberry.ID(r.id),
            number=r.number,
            status=r.status,
            subtotal=Money.required(r.subtotal),
            tax=Money.required(r.tax),
            total=Money.required(r.total),
            placed_at=r.placed_at,
            updated_at=r.updated_at,
        )

    @resolver("The ordered items.")
    async def lines(self, info: Info) -> list[OrderLine]:
        product = ("OrderLine", "product")
        lines = self.record.lines
        if not lines or not prefetches(info, product):
            return [OrderLine.of(line) for line in lines]
        found = await load_products(info, [line.sku for line in lines], under=(product,))
        await let_io_progress()  # the lines' completion is CPU-heavy; shipments go first
        return [OrderLine.of(line, found[line.sku]) for line in lines]

    @resolver("The customer who placed the order.")
    def customer(self, info: Info) -> Customer | None:
        r = self.record
        named = None if r.customer_id is None else from_lookup(info, r.customer_id, r.customer_name)
        if named is not None:
            return named
        # graphql-core awaits an awaitable a resolver returns; the field type stays the same
        return cast("Customer | None", load_customer(info, r.customer_id))

    @resolver("Shipments for this order (SCM).")
    async def shipments(self, info: Info) -> list[ShipmentRef] | None:
        from schema.shipments import Shipment

        found = await shipments_loader(info).load(self.record.id)
        return [Shipment.of(s) for s in found or []]

    @resolver("Fulfillment, derived from the ERP mirror and shipments (SCM).")
    async def fulfillment(self, info: Info) -> FulfillmentStatus | None:
        loaders = info.context.loaders
        mirror, shipments = await asyncio.gather(
            loaders.erp_orders.load(self.record.id),
            shipments_loader(info).load(self.record.id),
        )
        return derive_fulfillment(mirror, shipments or [])


def shipments_loader(info: Info) -> KeyedLoader[str, list[records.Shipment]]:
    """Orders' shipments, with destinations only if the operation may read them anywhere."""
    destination = operation_reads(info, "Shipment", "destination")
    return info.context.loaders.order_shipments(with_destination=destination)


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
