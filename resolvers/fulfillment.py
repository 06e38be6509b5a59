"""How far an order has got in the warehouse, derived from the ERP mirror and its shipments.

The CRM knows what was sold; only ERPNext knows what was reserved and shipped. The rule,
first match wins:

    no ERP mirror, or the mirror is a draft (docstatus 0) or cancelled (2)  -> UNFULFILLED
    submitted, per_delivered >= 100, and every live shipment DELIVERED      -> DELIVERED
    submitted, per_delivered >= 100                                        -> SHIPPED
    submitted, 0 < per_delivered < 100                                      -> PARTIALLY_SHIPPED
    submitted, nothing delivered yet (stock reserved on submit)             -> RESERVED

"Live" shipments are those not CANCELLED; with no live shipment a fully delivered order
counts as SHIPPED, since nothing confirms it arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from resolvers.records import ErpOrder, FulfillmentStatus, Shipment, ShipmentStatus

SUBMITTED = 1
FULL = Decimal(100)


def derive_fulfillment(mirror: ErpOrder | None, shipments: Sequence[Shipment]) -> FulfillmentStatus:
    """The FulfillmentStatus of a CRM order given its ERP mirror and shipments."""
    if mirror is None or mirror.docstatus != SUBMITTED:
        return FulfillmentStatus.UNFULFILLED
    if mirror.per_delivered >= FULL:
        live = [s for s in shipments if s.status is not ShipmentStatus.CANCELLED]
        if live and all(s.status is ShipmentStatus.DELIVERED for s in live):
            return FulfillmentStatus.DELIVERED
        return FulfillmentStatus.SHIPPED
    if mirror.per_delivered > 0:
        return FulfillmentStatus.PARTIALLY_SHIPPED
    return FulfillmentStatus.RESERVED
