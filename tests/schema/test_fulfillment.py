"""The fulfillment rule, row by row (resolvers/fulfillment.py documents it)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from resolvers.fulfillment import derive_fulfillment
from resolvers.records import ErpOrder, FulfillmentStatus, Shipment, ShipmentStatus

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def mirror(docstatus: int = 1, delivered: str = "0") -> ErpOrder:
    return ErpOrder(
        name="SAL-ORD-1",
        crm_order_id="1",
        docstatus=docstatus,
        status="To Deliver",
        per_delivered=Decimal(delivered),
    )


def shipment(status: ShipmentStatus) -> Shipment:
    return Shipment(id=f"SHIP-{status.value}", status=status, updated_at=NOW)


DELIVERED = shipment(ShipmentStatus.DELIVERED)
IN_TRANSIT = shipment(ShipmentStatus.IN_TRANSIT)
CANCELLED = shipment(ShipmentStatus.CANCELLED)


@pytest.mark.parametrize(
    ("erp_order", "shipments", "expected"),
    [
        (None, [], FulfillmentStatus.UNFULFILLED),  # never mirrored to the ERP
        (mirror(docstatus=0), [], FulfillmentStatus.UNFULFILLED),  # draft: nothing reserved
        (mirror(docstatus=2), [DELIVERED], FulfillmentStatus.UNFULFILLED),  # cancelled mirror
        (mirror(), [], FulfillmentStatus.RESERVED),  # submitted reserves stock
        (mirror(delivered="40"), [IN_TRANSIT], FulfillmentStatus.PARTIALLY_SHIPPED),
        (mirror(delivered="40"), [DELIVERED], FulfillmentStatus.PARTIALLY_SHIPPED),  # part only
        (mirror(delivered="100"), [IN_TRANSIT], FulfillmentStatus.SHIPPED),
        (mirror(delivered="100"), [], FulfillmentStatus.SHIPPED),  # no proof of arrival
        (mirror(delivered="100"), [DELIVERED], FulfillmentStatus.DELIVERED),
        (mirror(delivered="100"), [DELIVERED, CANCELLED], FulfillmentStatus.DELIVERED),  # void one
        (mirror(delivered="100"), [CANCELLED], FulfillmentStatus.SHIPPED),  # only a void one
    ],
)
def test_fulfillment_follows_the_erp_mirror_and_its_shipments(
    erp_order: ErpOrder | None, shipments: list[Shipment], expected: FulfillmentStatus
) -> None:
    assert derive_fulfillment(erp_order, shipments) is expected
