"""The record attributes a request needs of each record type, from its selection.

A connector asks its backend only for the columns of the attributes a request needs
(`resolvers.columns`). Which those are is read here once per operation: every `Type.field`
the operation runs (the request's `RequestAnalysis`, else its document) is looked up in a
table of what each field reads of its record. Rules:

- a field the table does not know reads the record in full (a new field is never starved);
- a type with a row rule is read in full (the rule re-checks fields of the returned rows);
- a denied field is not run, so it asks for nothing.

    order_wanted(info)   # frozenset({"number", "status", "total", "lines", ...}) or None
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from resolvers.columns import Wanted
from schema.context import GatewayContext
from schema.selection import operation_reads, remember

# What each field of an order reads of its `resolvers.records.Order`, and the fields of other
# types that read an order record (`Shipment.orderNumber`: the CRM's number).
ORDER_READS: Mapping[str, tuple[str, ...]] = {
    "Order.id": (),
    "Order.number": ("number",),
    "Order.status": ("status",),
    "Order.placedAt": ("placed_at",),
    "Order.updatedAt": ("updated_at",),
    "Order.subtotal": ("subtotal",),
    "Order.tax": ("tax",),
    "Order.total": ("total",),
    "Order.lines": ("lines",),
    "Order.customer": ("customer_id", "customer_name"),
    "Order.shipments": (),
    "Order.fulfillment": (),
    "Shipment.orderNumber": ("number",),
}

# What each field of a shipment reads of its `resolvers.records.Shipment`; the CRM order id
# (what shipments are fetched and grouped by) is always read.
SHIPMENT_READS: Mapping[str, tuple[str, ...]] = {
    "Shipment.id": (),
    "Shipment.carrier": ("carrier",),
    "Shipment.service": ("service",),
    "Shipment.trackingNumber": ("tracking_number",),
    "Shipment.trackingUrl": ("tracking_url",),
    "Shipment.status": ("status",),
    "Shipment.pickupDate": ("pickup_date",),
    "Shipment.destination": ("destination",),
    "Shipment.lines": ("lines",),
    "Shipment.value": ("value",),
    "Shipment.orderNumber": ("order_id",),
    "Shipment.order": ("order_id",),
    "Order.fulfillment": ("status",),
}


def order_wanted(info: Any) -> Wanted:
    """The order attributes this operation needs (None: the orders in full)."""
    return wanted(info, "Order", ORDER_READS)


def shipment_wanted(info: Any) -> Wanted:
    """The shipment attributes this operation needs (None: the shipments in full)."""
    return wanted(info, "Shipment", SHIPMENT_READS)


def wanted(info: Any, type_name: str, reads: Mapping[str, tuple[str, ...]]) -> Wanted:
    """What the operation's fields read of `type_name`'s records, by `reads`; None when a
    field of the type is not in `reads` or a row rule binds the type. Once per operation."""
    context = info.context
    if not isinstance(context, GatewayContext):  # a test schema's own context: in full
        return None
    if type_name in context.row_filters:
        return None
    raw = getattr(info, "_raw_info", info)
    return remember(
        info, ("wanted", type_name), raw.operation, lambda: _wanted(raw, type_name, reads)
    )


def _wanted(raw: Any, type_name: str, reads: Mapping[str, tuple[str, ...]]) -> Wanted:
    graphql_type = raw.schema.get_type(type_name)
    own = [f"{type_name}.{name}" for name in getattr(graphql_type, "fields", {})]
    others = [c for c in reads if not c.startswith(f"{type_name}.")]
    needed: set[str] = set()
    for coordinate in (*own, *others):
        parent, name = coordinate.split(".", 1)
        if not operation_reads(raw, parent, name):
            continue
        attributes = reads.get(coordinate)
        if attributes is None:
            return None
        needed.update(attributes)
    return frozenset(needed)
