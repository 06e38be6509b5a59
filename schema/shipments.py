"""Shipment and ShipmentLine: ERPNext shipments joined back to CRM orders and products."""

from __future__ import annotations

import strawberry

from resolvers import records
from schema.common import Address, Money
from schema.context import Info
from schema.enums import ShipmentStatus
from schema.fields import resolver
from schema.orders import Order, load_order
from schema.products import Product, load_product
from schema.selection import operation_reads


@strawberry.type(description="A product and quantity in a shipment.")
class ShipmentLine:
    sku: str = strawberry.field(description="The product's SKU.")
    quantity: float = strawberry.field(description="Quantity shipped.")

    @resolver("The product (CRM catalog merged with the SCM item).")
    async def product(self, info: Info) -> Product | None:
        return await load_product(info, self.sku)


@strawberry.type(description="A shipment from the SCM (ERPNext `Shipment` and delivery notes).")
class Shipment:
    record: strawberry.Private[records.Shipment]
    id: strawberry.ID = strawberry.field(description="The ERPNext shipment name.")
    carrier: str | None = strawberry.field(description="The carrier, e.g. DHL.")
    service: str | None = strawberry.field(description="The carrier's service level.")
    tracking_number: str | None = strawberry.field(description="The carrier's tracking number.")
    tracking_url: str | None = strawberry.field(description="Where to track it.")
    status: ShipmentStatus = strawberry.field(description="Canonical shipment status.")
    pickup_date: str | None = strawberry.field(description="Pickup date, YYYY-MM-DD.")
    destination: Address | None = strawberry.field(description="Where it goes. PII.")
    lines: list[ShipmentLine] = strawberry.field(description="What it carries.")
    value: Money | None = strawberry.field(description="Declared value of the goods.")

    @classmethod
    def of(cls, r: records.Shipment) -> Shipment:
        return cls(
            record=r,
            id=strawberry.ID(r.id),
            carrier=r.carrier,
            service=r.service,
            tracking_number=r.tracking_number,
            tracking_url=r.tracking_url,
            status=r.status,
            pickup_date=r.pickup_date,
            destination=Address.of(r.destination),
            lines=[ShipmentLine(sku=line.sku, quantity=float(line.quantity)) for line in r.lines],
            value=Money.of(r.value),
        )

    @resolver("The CRM order number it ships (from the CRM when ERPNext lacks it).")
    async def order_number(self, info: Info) -> str | None:
        if self.record.order_number is not None or self.record.order_id is None:
            return self.record.order_number
        order = await info.context.loaders.orders.load(self.record.order_id)
        return None if order is None else order.number

    @resolver("The CRM order this shipment delivers.")
    async def order(self, info: Info) -> Order | None:
        return await load_order(info, self.record.order_id)


async def load_shipment(info: Info, shipment_id: str) -> Shipment | None:
    """The shipment by name; its destination (the Address call) only if the operation may
    read it."""
    destination = operation_reads(info, "Shipment", "destination")
    found = await info.context.loaders.shipment_by_id(with_destination=destination).load(
        shipment_id
    )
    return None if found is None else Shipment.of(found)
