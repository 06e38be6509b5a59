"""Order and OrderLine: CRM sales orders joined to customers, products and SCM shipments."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import records
from resolvers.fulfillment import derive_fulfillment
from schema.common import Money
from schema.context import Info
from schema.customers import Customer, load_customer
from schema.enums import FulfillmentStatus, OrderStatus
from schema.fields import resolver
from schema.products import Product, load_product

if TYPE_CHECKING:
    from schema.shipments import Shipment

ShipmentRef = Annotated["Shipment", strawberry.lazy("schema.shipments")]


@strawberry.type(description="One line of a sales order.")
class OrderLine:
    sku: str = strawberry.field(description="The product's SKU.")
    quantity: float = strawberry.field(description="Quantity ordered.")
    unit_price: Money = strawberry.field(description="Price per unit on this order.")
    total: Money = strawberry.field(description="Line total.")

    @classmethod
    def of(cls, r: records.OrderLine) -> OrderLine:
        return cls(
            sku=r.sku,
            quantity=float(r.quantity),
            unit_price=Money.required(r.unit_price),
            total=Money.required(r.total),
        )

    @resolver("The product (CRM catalog merged with the SCM item).")
    async def product(self, info: Info) -> Product | None:
        return await load_product(info, self.sku)


@strawberry.type(description="A sales order from the CRM (Zoho `Sales_Orders`).")
class Order:
    record: strawberry.Private[records.Order]
    id: strawberry.ID = strawberry.field(description="The CRM order id.")
    number: str = strawberry.field(description="The order number people quote.")
    status: OrderStatus = strawberry.field(description="The CRM status, canonical.")
    lines: list[OrderLine] = strawberry.field(description="The ordered items.")
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
            lines=[OrderLine.of(line) for line in r.lines],
            subtotal=Money.required(r.subtotal),
            tax=Money.required(r.tax),
            total=Money.required(r.total),
            placed_at=r.placed_at,
            updated_at=r.updated_at,
        )

    @resolver("The customer who placed the order.")
    async def customer(self, info: Info) -> Customer | None:
        return await load_customer(info, self.record.customer_id)

    @resolver("Shipments for this order (SCM).")
    async def shipments(self, info: Info) -> list[ShipmentRef] | None:
        from schema.shipments import Shipment

        found = await info.context.loaders.shipments_by_order.load(self.record.id)
        return [Shipment.of(s) for s in found or []]

    @resolver("Fulfillment, derived from the ERP mirror and shipments (SCM).")
    async def fulfillment(self, info: Info) -> FulfillmentStatus | None:
        loaders = info.context.loaders
        mirror, shipments = await asyncio.gather(
            loaders.erp_orders.load(self.record.id),
            loaders.shipments_by_order.load(self.record.id),
        )
        return derive_fulfillment(mirror, shipments or [])


async def load_order(info: Info, order_id: str | None) -> Order | None:
    if order_id is None:
        return None
    found = await info.context.loaders.orders.load(order_id)
    return None if found is None else Order.of(found)
