"""Submit and cancel effects on stock (dialects.md §B.6, §B.8.4, §B.8.5).

A hook runs after the document itself is stored with its new docstatus, inside the same
transaction: raising rolls the whole request back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import bins
from .controllers import Context
from .doctypes import STOCK_RESERVATION_ENTRY
from .errors import FrappeError

Row = dict[str, Any]
Hook = Callable[[Context, Row], None]


def set_values(ctx: Context, doctype: str, name: str, **values: Any) -> None:
    """Frappe's `db_set`: write columns directly and touch `modified`; fires `on_change`."""
    values["modified"] = ctx.store.now()
    ctx.fire(doctype, name, "on_change")
    cols = ", ".join(f'"{c}" = ?' for c in values)
    ctx.store.execute(f'UPDATE "tab{doctype}" SET {cols} WHERE name = ?', (*values.values(), name))  # noqa: S608


def _pairs(doc: Row) -> set[tuple[str, str]]:
    return {(r["item_code"], r["warehouse"]) for r in doc.get("items") or [] if r.get("warehouse")}


def refuse_linked(ctx: Context, sql: str, name: str, what: str) -> None:
    """Frappe's LinkExistsError when `sql` (selecting `dt`, `dn`) finds a linking document."""
    rows = ctx.store.query(sql, (name,))
    if rows:
        raise FrappeError(
            "LinkExistsError",
            f"Cannot delete or cancel because {what} {name} is linked with {rows[0]['dt']} "
            f"{rows[0]['dn']}",
        )


# -- Sales Order ------------------------------------------------------------------------------


def submit_sales_order(ctx: Context, doc: Row) -> None:
    set_values(
        ctx,
        "Sales Order",
        doc["name"],
        status="To Deliver and Bill",
        delivery_status="Not Delivered",
        billing_status="Not Billed",
    )
    bins.recompute(ctx.store, _pairs(doc))
    if doc.get("reserve_stock"):
        for row in doc.get("items") or []:
            _reserve_row(ctx, doc, row)


def _reserve_row(ctx: Context, doc: Row, row: Row) -> None:
    warehouse = row.get("warehouse")
    if not (row.get("reserve_stock") and warehouse):
        return
    if not ctx.value("Item", row["item_code"], "is_stock_item"):
        return
    if ctx.value("Warehouse", warehouse, "is_group"):
        return
    pending = row["stock_qty"] - row["delivered_qty"] * row["conversion_factor"]
    pending -= row["stock_reserved_qty"]
    free = bins.get(ctx.store, row["item_code"], warehouse)
    available = free["actual_qty"] - free["reserved_stock"]
    qty = min(pending, available)
    where = f"the Item {row['item_code']} in Warehouse {warehouse}"
    if qty <= 0:
        ctx.messages.append(f"Row #{row['idx']}: Stock not available to reserve for {where}.")
        return
    if qty < pending:
        ctx.messages.append(f"Row #{row['idx']}: Only {qty} available to reserve for {where}.")
    entry = {f.name: f.empty() for f in STOCK_RESERVATION_ENTRY.fields}
    stamp = ctx.store.now()
    entry.update(
        name=ctx.store.next_name(STOCK_RESERVATION_ENTRY.naming.removeprefix("series:")),
        owner="Administrator",
        modified_by="Administrator",
        creation=stamp,
        modified=stamp,
        docstatus=1,
        idx=0,
        item_code=row["item_code"],
        warehouse=warehouse,
        voucher_no=doc["name"],
        voucher_detail_no=row["name"],
        voucher_qty=row["stock_qty"],
        available_qty=available,
        reserved_qty=qty,
        stock_uom=row.get("stock_uom") or "Nos",
        company=doc["company"],
        status="Reserved" if qty >= pending else "Partially Reserved",
    )
    ctx.store.write(STOCK_RESERVATION_ENTRY.name, entry, new=True)
    _sync_reservation(ctx, row["name"], (row["item_code"], warehouse))


def _sync_reservation(ctx: Context, so_detail: str, pair: tuple[str, str]) -> None:
    ctx.store.execute(
        'UPDATE "tabSales Order Item" SET stock_reserved_qty = (SELECT COALESCE(SUM('
        'reserved_qty - delivered_qty), 0) FROM "tabStock Reservation Entry" WHERE '
        "voucher_detail_no = ? AND docstatus = 1) WHERE name = ?",
        (so_detail, so_detail),
    )
    bins.recompute(ctx.store, [pair])


def cancel_sales_order(ctx: Context, doc: Row) -> None:
    refuse_linked(
        ctx,
        'SELECT "Delivery Note" AS dt, dn.name AS dn FROM "tabDelivery Note Item" i '
        'JOIN "tabDelivery Note" dn ON dn.name = i.parent '
        "WHERE i.against_sales_order = ? AND dn.docstatus = 1 LIMIT 1",
        doc["name"],
        "Sales Order",
    )
    ctx.store.execute(
        'UPDATE "tabStock Reservation Entry" SET docstatus = 2, status = ?, modified = ? '
        "WHERE voucher_no = ? AND docstatus = 1",
        ("Cancelled", ctx.store.now(), doc["name"]),
    )
    ctx.store.execute(
        'UPDATE "tabSales Order Item" SET stock_reserved_qty = 0 WHERE parent = ?', (doc["name"],)
    )
    set_values(ctx, "Sales Order", doc["name"], status="Cancelled")
    bins.recompute(ctx.store, _pairs(doc))


def _refresh_sales_order(ctx: Context, name: str) -> None:
    rows = ctx.store.query(
        'SELECT SUM(MIN(delivered_qty, qty)) AS done, SUM(qty) AS total FROM "tabSales Order Item" '
        "WHERE parent = ?",
        (name,),
    )
    total = rows[0]["total"] or 0.0
    per = round(100.0 * (rows[0]["done"] or 0.0) / total, 2) if total else 0.0
    delivery = "Fully Delivered" if per >= 100 else "Partly Delivered" if per else "Not Delivered"
    status = "To Bill" if per >= 100 else "To Deliver and Bill"
    set_values(ctx, "Sales Order", name, per_delivered=per, delivery_status=delivery, status=status)


# -- Delivery Note ----------------------------------------------------------------------------


def submit_delivery_note(ctx: Context, doc: Row) -> None:
    _deliver(ctx, doc, 1.0)
    set_values(ctx, "Delivery Note", doc["name"], status="To Bill")


def cancel_delivery_note(ctx: Context, doc: Row) -> None:
    refuse_linked(
        ctx,
        'SELECT "Shipment" AS dt, s.name AS dn FROM "tabShipment Delivery Note" r '
        'JOIN "tabShipment" s ON s.name = r.parent '
        "WHERE r.delivery_note = ? AND s.docstatus = 1 LIMIT 1",
        doc["name"],
        "Delivery Note",
    )
    _deliver(ctx, doc, -1.0)
    set_values(ctx, "Delivery Note", doc["name"], status="Cancelled")


def _deliver(ctx: Context, doc: Row, sign: float) -> None:
    orders: set[str] = set()
    for row in doc.get("items") or []:
        qty = row["stock_qty"]
        if row.get("warehouse") and ctx.value("Item", row["item_code"], "is_stock_item"):
            pair = (row["item_code"], row["warehouse"])
            if sign > 0 and bins.get(ctx.store, *pair)["actual_qty"] < qty:
                raise FrappeError(
                    "NegativeStockError",
                    f"{qty} units of Item {pair[0]} needed in Warehouse {pair[1]} to complete "
                    "this transaction.",
                )
            bins.move(ctx.store, pair[0], pair[1], -sign * qty)
        if row.get("so_detail"):
            _deliver_against_order(ctx, row, sign)
            orders.add(row["against_sales_order"])
    for order in orders:
        _refresh_sales_order(ctx, order)
    bins.recompute(ctx.store, _pairs(doc))


def _deliver_against_order(ctx: Context, row: Row, sign: float) -> None:
    found = ctx.store.query(
        "SELECT i.qty, i.delivered_qty, i.item_code, i.warehouse, so.docstatus FROM "
        '"tabSales Order Item" i JOIN "tabSales Order" so ON so.name = i.parent '
        "WHERE i.name = ? AND so.name = ?",
        (row["so_detail"], row["against_sales_order"]),
    )
    if not found or found[0]["docstatus"] != 1:
        raise FrappeError(
            "ValidationError", f"Sales Order {row['against_sales_order']} is not submitted"
        )
    line = found[0]
    excess = line["delivered_qty"] + sign * row["qty"] - line["qty"]
    if excess > 1e-9:
        raise FrappeError(
            "OverAllowanceError",
            f"This document is over limit by {excess} for item {row['item_code']}.",
        )
    ctx.store.execute(
        'UPDATE "tabSales Order Item" SET delivered_qty = delivered_qty + ? WHERE name = ?',
        (sign * row["qty"], row["so_detail"]),
    )
    _consume_reservations(ctx, row["so_detail"], sign * row["stock_qty"])
    _sync_reservation(ctx, row["so_detail"], (line["item_code"], line["warehouse"]))


def _consume_reservations(ctx: Context, so_detail: str, qty: float) -> None:
    entries = ctx.store.query(
        'SELECT name, reserved_qty, delivered_qty FROM "tabStock Reservation Entry" '
        "WHERE voucher_detail_no = ? AND docstatus = 1 ORDER BY creation",
        (so_detail,),
    )
    for entry in entries:
        room = (
            entry["reserved_qty"] - entry["delivered_qty"] if qty > 0 else -entry["delivered_qty"]
        )
        step = min(qty, room) if qty > 0 else max(qty, room)
        if step == 0:
            continue
        delivered = entry["delivered_qty"] + step
        status = (
            "Delivered"
            if delivered >= entry["reserved_qty"]
            else "Partially Delivered"
            if delivered > 0
            else "Reserved"
        )
        set_values(
            ctx, "Stock Reservation Entry", entry["name"], delivered_qty=delivered, status=status
        )
        qty -= step


# -- Shipment and Stock Reservation Entry -----------------------------------------------------


def submit_shipment(ctx: Context, doc: Row) -> None:
    if not doc.get("shipment_parcel"):
        raise FrappeError("ValidationError", "Please enter Shipment Parcel information")
    if not doc.get("value_of_goods"):
        raise FrappeError("ValidationError", "Value of goods cannot be 0")
    set_values(ctx, "Shipment", doc["name"], status="Submitted")


def cancel_shipment(ctx: Context, doc: Row) -> None:
    set_values(ctx, "Shipment", doc["name"], status="Cancelled")


def submit_reservation(ctx: Context, doc: Row) -> None:
    full = doc["reserved_qty"] >= doc["voucher_qty"]
    set_values(
        ctx,
        "Stock Reservation Entry",
        doc["name"],
        status="Reserved" if full else "Partially Reserved",
    )
    _sync_reservation(ctx, doc["voucher_detail_no"], (doc["item_code"], doc["warehouse"]))


def cancel_reservation(ctx: Context, doc: Row) -> None:
    set_values(ctx, "Stock Reservation Entry", doc["name"], status="Cancelled")
    _sync_reservation(ctx, doc["voucher_detail_no"], (doc["item_code"], doc["warehouse"]))


ON_SUBMIT: dict[str, Hook] = {
    "Sales Order": submit_sales_order,
    "Delivery Note": submit_delivery_note,
    "Shipment": submit_shipment,
    "Stock Reservation Entry": submit_reservation,
}
ON_CANCEL: dict[str, Hook] = {
    "Sales Order": cancel_sales_order,
    "Delivery Note": cancel_delivery_note,
    "Shipment": cancel_shipment,
    "Stock Reservation Entry": cancel_reservation,
}
