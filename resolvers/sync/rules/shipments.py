"""Rule 3: an ERP Shipment's status or tracking changed → its CRM Sales_Order's `Status`.

The order (the shipment's `custom_crm_order_id`) is `delivered_status` when every shipment
of it (drafts and cancelled ones aside) is delivered, `shipped_status` when one is in transit
or delivered; the values are the tenant's picklist names, from settings. The status only
moves forward: an order cancelled or already delivered in the CRM is left alone. The rule
recognises its own last write (same version, same value) so it never writes a status twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from resolvers.records import Order, OrderStatus, Shipment, ShipmentStatus

from ..change import Change
from .base import Applied, RuleContext, Snapshot, Write, fingerprint
from .settings import ShipmentRule

_COUNTED = frozenset(
    {
        ShipmentStatus.BOOKED,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.DELIVERED,
        ShipmentStatus.EXCEPTION,
    }
)
_SHIPPED = frozenset({ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED})
_FINAL = frozenset({OrderStatus.CANCELLED, OrderStatus.DELIVERED})


class ShipmentToOrderStatus:
    name = "shipment_to_order_status"

    def __init__(self, settings: ShipmentRule) -> None:
        self.settings = settings

    def applies(self, change: Change) -> bool:
        return change.system == "erp" and change.entity == "shipment"

    async def apply(self, ctx: RuleContext, change: Change, current: Snapshot) -> Applied:
        shipment = current.record
        if not isinstance(shipment, Shipment):
            return Applied(self.name, note=f"ERP shipment {change.record_id} is gone")
        order_id = shipment.order_id
        if order_id is None:
            return Applied(self.name, note=f"ERP shipment {shipment.id} names no CRM order")
        async with ctx.lock(f"crm:order:{order_id}"):
            found = await ctx.scm.shipments_by_orders(
                [order_id], with_destination=False, with_lines=False
            )
            target = self._target(found.get(order_id, []))
            if target is None:
                return Applied(self.name, note=f"CRM order {order_id}: nothing to change")
            order = (await ctx.crm.get_orders([order_id])).get(order_id)
            if order is None:
                return Applied(self.name, note=f"CRM order {order_id} does not exist")
            return await self._set(ctx, order, target)

    def _target(self, shipments: Sequence[Shipment]) -> str | None:
        counted = [s for s in shipments if s.status in _COUNTED]
        if counted and all(s.status is ShipmentStatus.DELIVERED for s in counted):
            return self.settings.delivered_status or None
        if any(s.status in _SHIPPED for s in counted):
            return self.settings.shipped_status or None
        return None

    async def _set(self, ctx: RuleContext, order: Order, status: str) -> Applied:
        if order.status in _FINAL:
            note = f"CRM order {order.id} is {order.status.value}: left alone"
            return Applied(self.name, note=note)
        mark = await ctx.recall(("crm", "order", order.id))
        values = fingerprint({"Status": status})
        if mark is not None and (mark.version, mark.fingerprint) == (order.updated_at, values):
            return Applied(self.name, note=f"CRM order {order.id} is {status} already")
        updated = await ctx.crm.set_order_status(order.id, status)
        what = f"CRM order {order.id} status {status}"
        write = Write("crm", "order", order.id, what, updated.updated_at, values)
        return Applied(self.name, (write,), what)
