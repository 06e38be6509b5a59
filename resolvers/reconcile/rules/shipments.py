"""Category 3, shipments: what left the warehouse agrees with the CRM order it ships.

- shipment_for_cancelled_order (error): a shipment not cancelled whose CRM order is Cancelled.
- shipment_without_order (error): a shipment not cancelled whose `custom_crm_order_id` names
  no CRM order.
- over_shipped (error): the shipments of an order (not cancelled ones) carry more of a SKU
  than the CRM order line asks for.
- delivered_not_delivered (warning): a CRM order Delivered while one of its shipments (not
  cancelled) is not delivered. An order with no shipment at all is not a finding: goods may
  be collected or delivered without a carrier.

None of these can be repaired by Crossdock: the goods are physical, someone must act.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from resolvers.records import OrderStatus, Shipment, ShipmentStatus

from ..bundles import OrderBundle
from ..findings import Category, Difference, Finding, Fix, RecordRef, Rule, Severity
from ..normalise import number

SHIPMENT_FOR_CANCELLED = Rule(
    Category.SHIPMENTS,
    "shipment_for_cancelled_order",
    Severity.ERROR,
    "A shipment (not cancelled) belongs to a Cancelled CRM order.",
)
SHIPMENT_WITHOUT_ORDER = Rule(
    Category.SHIPMENTS,
    "shipment_without_order",
    Severity.ERROR,
    "A shipment (not cancelled) names a CRM order that does not exist.",
)
OVER_SHIPPED = Rule(
    Category.SHIPMENTS,
    "over_shipped",
    Severity.ERROR,
    "The shipments of an order carry more of a SKU than the order asks for.",
)
DELIVERED_NOT_DELIVERED = Rule(
    Category.SHIPMENTS,
    "delivered_not_delivered",
    Severity.WARNING,
    "A CRM order is Delivered while one of its shipments is not.",
)
RULES = (SHIPMENT_FOR_CANCELLED, SHIPMENT_WITHOUT_ORDER, OVER_SHIPPED, DELIVERED_NOT_DELIVERED)
_LOGISTICS = "logistics"


def check_order(bundle: OrderBundle) -> list[Finding]:
    if bundle.shipments is None:
        return []
    active = [s for s in bundle.shipments if s.status is not ShipmentStatus.CANCELLED]
    if not active:
        return []
    return [
        *_for_cancelled(bundle, active),
        *_over_shipped(bundle, active),
        *_undelivered(bundle, active),
    ]


def _for_cancelled(bundle: OrderBundle, active: list[Shipment]) -> list[Finding]:
    order = bundle.order
    if order.status is not OrderStatus.CANCELLED:
        return []
    return [
        Finding(
            SHIPMENT_FOR_CANCELLED,
            (s.id, order.id),
            f"Shipment {s.id} ({s.status.value}, {s.carrier or 'no carrier'}) ships CRM order "
            f"{order.number}, which is Cancelled.",
            (RecordRef("erp", "shipment", s.id, _label(s)), _order_ref(bundle)),
            Fix(
                "Stop or recall the shipment with the carrier and cancel it in the ERP, or "
                "reinstate the CRM order if it was cancelled by mistake.",
                who=f"{_LOGISTICS} (with the carrier), or sales if the order should stand",
                why="the goods may already be on their way: only the carrier can stop them, "
                "and whether the customer keeps them is a sales decision",
            ),
            (Difference("status", order.status.value, s.status.value),),
        )
        for s in active
    ]


def shipment_without_order(shipment: Shipment) -> list[Finding]:
    """A live shipment whose CRM order (by `custom_crm_order_id`) does not exist."""
    if shipment.status is ShipmentStatus.CANCELLED or not shipment.order_id:
        return []
    order_id = shipment.order_id
    return [
        Finding(
            SHIPMENT_WITHOUT_ORDER,
            (shipment.id, order_id),
            f"Shipment {shipment.id} ({_label(shipment)}) names CRM order {order_id}, which does "
            "not exist.",
            (RecordRef("erp", "shipment", shipment.id, _label(shipment)),),
            Fix(
                "Find the order the shipment belongs to and correct its custom_crm_order_id, "
                "or stop the shipment.",
                who=_LOGISTICS,
                why="only the people who packed it know which order the goods belong to",
            ),
            (Difference("custom_crm_order_id", None, order_id),),
        )
    ]


def _over_shipped(bundle: OrderBundle, active: list[Shipment]) -> list[Finding]:
    ordered: dict[str, Decimal] = defaultdict(Decimal)
    for line in bundle.order.lines:
        ordered[line.sku] += line.quantity
    shipped: dict[str, Decimal] = defaultdict(Decimal)
    for shipment in active:
        for item in shipment.lines:
            shipped[item.sku] += item.quantity
    over = sorted(sku for sku, qty in shipped.items() if qty > ordered.get(sku, Decimal(0)))
    if not over:
        return []
    order = bundle.order
    listed = ", ".join(
        f"{sku} {number(shipped[sku])} of {number(ordered.get(sku, Decimal(0)))}" for sku in over
    )
    return [
        Finding(
            OVER_SHIPPED,
            (order.id,),
            f"CRM order {order.number} is shipped beyond what it orders: {listed}.",
            (_order_ref(bundle), *(RecordRef("erp", "shipment", s.id, _label(s)) for s in active)),
            Fix(
                "Recover the extra goods or bill them (amend the CRM order).",
                who=f"{_LOGISTICS} and billing",
                why="the surplus is physical stock at the customer's; the books follow what "
                "logistics and the customer agree",
            ),
            tuple(
                Difference(
                    f"quantity[{sku}]", number(ordered.get(sku, Decimal(0))), number(shipped[sku])
                )
                for sku in over
            ),
        )
    ]


def _undelivered(bundle: OrderBundle, active: list[Shipment]) -> list[Finding]:
    order = bundle.order
    if order.status is not OrderStatus.DELIVERED:
        return []
    pending = [s for s in active if s.status is not ShipmentStatus.DELIVERED]
    if not pending:
        return []
    states = ", ".join(f"{s.id} {s.status.value}" for s in pending)
    return [
        Finding(
            DELIVERED_NOT_DELIVERED,
            (order.id,),
            f"CRM order {order.number} is Delivered but shipment(s) {states} are not.",
            (_order_ref(bundle), *(RecordRef("erp", "shipment", s.id, _label(s)) for s in pending)),
            Fix(
                "Confirm the delivery with the carrier (its tracking status then updates the "
                "shipment), or set the CRM order back if the goods have not arrived.",
                who=f"{_LOGISTICS} (tracking), or sales for the CRM status",
                why="which side is right is a fact about the parcel that only the carrier knows",
            ),
            tuple(
                Difference(f"shipment[{s.id}].status", "DELIVERED", s.status.value) for s in pending
            ),
        )
    ]


def _order_ref(bundle: OrderBundle) -> RecordRef:
    order = bundle.order
    return RecordRef("crm", "order", order.id, f"{order.number} ({order.status.value})")


def _label(shipment: Shipment) -> str:
    return f"{shipment.status.value}, {shipment.carrier or 'no carrier'}"
