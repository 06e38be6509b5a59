"""ERPNext (Frappe) documents (dialects §B.6, §B.8) to canonical records.

Frappe datetimes are naive site-local strings and numbers are floats; both are converted
here through the site time zone and Decimal. A shipment's status is its `tracking_status`
when that is set and mapped, else its `status`, else its docstatus (0 draft, 1 booked,
2 cancelled) so that an unmapped tenant value never fails a listing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from resolvers.canonical import (
    EPOCH,
    country_code,
    money,
    parse_naive_datetime,
    text,
    to_decimal,
    to_decimal_or_zero,
)
from resolvers.records import (
    Address,
    ErpAddress,
    ErpCustomer,
    ErpOrder,
    ErpOrderLine,
    Item,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    StockLevel,
    Warehouse,
)

Doc = Mapping[str, Any]

ITEM_FIELDS = (
    "item_code", "item_name", "disabled", "is_stock_item", "modified", "description",
    "stock_uom", "valuation_rate",
)  # fmt: skip
BIN_FIELDS = ("item_code", "warehouse", "actual_qty", "reserved_qty", "projected_qty")
WAREHOUSE_FIELDS = ("name", "warehouse_name", "company")
SHIPMENT_FIELDS = (
    "name", "status", "docstatus", "modified", "custom_crm_order_id", "carrier",
    "carrier_service", "awb_number", "shipment_id", "tracking_url", "tracking_status",
    "pickup_date", "delivery_address_name", "value_of_goods",
)  # fmt: skip
# A shipment's attributes (resolvers.records.Shipment) and the columns each is made from, for
# reads narrowed to what a request needs (resolvers.columns). The base: the name, the CRM order
# it is fetched and grouped by, and the three columns its status is derived from.
SHIPMENT_BASE = ("name", "custom_crm_order_id", "status", "docstatus", "tracking_status")
SHIPMENT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "status": (),
    "order_id": (),
    "updated_at": ("modified",),
    "carrier": ("carrier",),
    "service": ("carrier_service",),
    "tracking_number": ("awb_number", "shipment_id"),
    "tracking_url": ("tracking_url",),
    "pickup_date": ("pickup_date",),
    "destination": ("delivery_address_name",),
    "value": ("value_of_goods",),
    "lines": (),
}
ADDRESS_FIELDS = ("name", "address_line1", "address_line2", "city", "state", "pincode", "country")
ORDER_FIELDS = ("name", "custom_crm_order_id", "docstatus", "status", "per_delivered", "modified")
ORDER_ITEM_FIELDS = (
    "parent", "name", "idx", "item_code", "qty", "delivered_qty", "stock_reserved_qty", "warehouse",
)  # fmt: skip
CUSTOMER_FIELDS = ("name", "customer_name", "custom_crm_account_id")
_DOCSTATUS = {0: ShipmentStatus.DRAFT, 1: ShipmentStatus.BOOKED, 2: ShipmentStatus.CANCELLED}


def to_item(doc: Doc, *, tz: ZoneInfo, currency: str) -> Item:
    return Item(
        sku=str(doc.get("item_code") or doc.get("name")),
        name=text(doc.get("item_name")) or str(doc.get("item_code")),
        disabled=bool(doc.get("disabled")),
        is_stock_item=bool(doc.get("is_stock_item", 1)),
        updated_at=parse_naive_datetime(doc.get("modified"), tz) or EPOCH,
        description=text(doc.get("description")),
        uom=text(doc.get("stock_uom")),
        unit_cost=money(doc.get("valuation_rate"), currency),
    )


def to_stock_level(doc: Doc) -> StockLevel:
    on_hand = to_decimal_or_zero(doc.get("actual_qty"))
    reserved = to_decimal_or_zero(doc.get("reserved_qty"))
    # positional, in the record's field order: keyword arguments made building a record
    # about 40 % dearer (a peer W2 request maps 138 Bin rows)
    return StockLevel(
        str(doc.get("item_code")),  # sku
        str(doc.get("warehouse")),  # warehouse_id
        on_hand,  # on_hand
        reserved,  # reserved
        on_hand - reserved,  # available
        to_decimal_or_zero(doc.get("projected_qty")),  # projected
    )


def to_warehouse(doc: Doc) -> Warehouse:
    name = str(doc.get("name"))
    return Warehouse(
        id=name, name=text(doc.get("warehouse_name")) or name, company=text(doc.get("company"))
    )


def to_address(doc: Doc) -> Address:
    street = ", ".join(
        s for s in (text(doc.get("address_line1")), text(doc.get("address_line2"))) if s
    )
    return Address(
        street=street or None,
        city=text(doc.get("city")),
        region=text(doc.get("state")),
        postal_code=text(doc.get("pincode")),
        country=country_code(text(doc.get("country"))),
    )


def shipment_status(
    doc: Doc,
    statuses: Mapping[str, ShipmentStatus],
    tracking: Mapping[str, ShipmentStatus],
) -> ShipmentStatus:
    tracked = tracking.get(str(doc.get("tracking_status") or ""))
    if tracked is not None and doc.get("docstatus") != 2:
        return tracked
    mapped = statuses.get(str(doc.get("status") or ""))
    if mapped is not None:
        return mapped
    return _DOCSTATUS.get(int(doc.get("docstatus") or 0), ShipmentStatus.DRAFT)


def to_shipment(
    doc: Doc,
    *,
    status: ShipmentStatus,
    tz: ZoneInfo,
    currency: str,
    lines: Sequence[ShipmentLine],
    destination: Address | None,
) -> Shipment:
    return Shipment(
        id=str(doc.get("name")),
        status=status,
        updated_at=parse_naive_datetime(doc.get("modified"), tz) or EPOCH,
        order_id=text(doc.get("custom_crm_order_id")),
        order_number=None,  # the CRM SO_Number is not stored in ERPNext
        carrier=text(doc.get("carrier")),
        service=text(doc.get("carrier_service")),
        tracking_number=text(doc.get("awb_number")) or text(doc.get("shipment_id")),
        tracking_url=text(doc.get("tracking_url")),
        pickup_date=text(doc.get("pickup_date")),
        destination=destination,
        lines=tuple(lines),
        value=money(doc.get("value_of_goods"), currency),
    )


def shipment_lines(dn_rows: Sequence[Doc]) -> list[ShipmentLine]:
    """Delivery Note Items summed per SKU, in first-seen order."""
    totals: dict[str, Decimal] = {}
    for row in dn_rows:
        sku = str(row.get("item_code"))
        totals[sku] = totals.get(sku, Decimal(0)) + to_decimal_or_zero(row.get("qty"))
    return [ShipmentLine(sku=sku, quantity=qty) for sku, qty in totals.items()]


def to_order_line(row: Doc) -> ErpOrderLine:
    qty = to_decimal_or_zero(row.get("qty"))
    delivered = to_decimal_or_zero(row.get("delivered_qty"))
    # What Stock Reservation Entries hold for the row (§B.8.4); 0 means nothing is reserved.
    reserved = to_decimal_or_zero(row.get("stock_reserved_qty"))
    return ErpOrderLine(
        sku=str(row.get("item_code")),
        quantity=qty,
        delivered=delivered,
        reserved=reserved,
        warehouse=text(row.get("warehouse")),
        row_name=text(row.get("name")),
        rate=to_decimal(row.get("rate")),
    )


def to_erp_order(doc: Doc, rows: Sequence[Doc], *, tz: ZoneInfo) -> ErpOrder:
    docstatus = int(doc.get("docstatus") or 0)
    status = str(doc.get("status") or "")
    ordered = sorted(rows, key=lambda r: int(r.get("idx") or 0))
    return ErpOrder(
        name=str(doc.get("name")),
        crm_order_id=text(doc.get("custom_crm_order_id")),
        docstatus=docstatus,
        status=status,
        per_delivered=to_decimal_or_zero(doc.get("per_delivered")),
        lines=tuple(to_order_line(r) for r in ordered),
        updated_at=parse_naive_datetime(doc.get("modified"), tz),
        created_at=parse_naive_datetime(doc.get("creation"), tz),
        customer=text(doc.get("customer")),
    )


def order_rank(doc: Doc) -> tuple[int, str]:
    """Which mirror wins when one CRM order has several: submitted, then draft, then cancelled."""
    preference = {1: 2, 0: 1, 2: 0}.get(int(doc.get("docstatus") or 0), 0)
    return preference, str(doc.get("modified") or "")


def to_erp_customer(doc: Doc, address: ErpAddress | None = None) -> ErpCustomer:
    name = str(doc.get("name"))
    return ErpCustomer(
        name=name,
        customer_name=text(doc.get("customer_name")) or name,
        crm_account_id=text(doc.get("custom_crm_account_id")),
        address=address,
        tax_id=text(doc.get("tax_id")),
        disabled=bool(doc.get("disabled")),
    )
