"""What the order process asks ERPNext about stock before and after it reserves (§B.6, §B.8.4).

Reservable stock of an item in a warehouse is the least of three Bin figures, so that an order
the gateway places never drives any of them below zero:

    actual_qty − reserved_qty      (classic reservation: every submitted Sales Order row)
    actual_qty − reserved_stock    (v15 Stock Reservation Entries: what a submit can reserve)
    projected_qty                  (what ERPNext plans with; includes production demand)

After a submit, the Stock Reservation Entries of the order are what was really reserved
(`reserved_qty − delivered_qty` per Sales Order Item row); a row with none reserved nothing.
Whether an item's quantities must be whole comes from its UOM's `must_be_whole_number`.
Reorder levels are the Item's `reorder_levels` rows (`Item Reorder`, a child listing with
`parent="Item"`): one call per 200 SKUs, whatever the number of warehouses.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from resolvers.canonical import to_decimal_or_zero
from resolvers.erpnext.wire import FrappeWire
from resolvers.records import ReorderLevel, ReservationEntry, StockLevel

RESERVABLE_FIELDS = (
    "item_code",
    "warehouse",
    "actual_qty",
    "reserved_qty",
    "reserved_stock",
    "projected_qty",
)
ENTRY_FIELDS = (
    "name",
    "voucher_detail_no",
    "item_code",
    "warehouse",
    "reserved_qty",
    "delivered_qty",
)
UOM_FIELDS = ("name", "must_be_whole_number")
REORDER_FIELDS = (
    "parent",
    "warehouse",
    "warehouse_group",
    "warehouse_reorder_level",
    "warehouse_reorder_qty",
)


async def reservable_stock(wire: FrappeWire, skus: Sequence[str]) -> dict[str, list[StockLevel]]:
    """Per SKU, one StockLevel per warehouse whose `available` is what may still be reserved."""
    rows = await wire.in_list("Bin", "item_code", skus, RESERVABLE_FIELDS)
    result: dict[str, list[StockLevel]] = {sku: [] for sku in skus}
    for row in sorted(rows, key=lambda r: str(r.get("warehouse"))):
        sku = str(row.get("item_code"))
        if sku in result:
            result[sku].append(_reservable(row))
    return result


def _reservable(row: dict[str, object]) -> StockLevel:
    actual = to_decimal_or_zero(row.get("actual_qty"))
    reserved = to_decimal_or_zero(row.get("reserved_qty"))
    held = to_decimal_or_zero(row.get("reserved_stock"))
    projected = to_decimal_or_zero(row.get("projected_qty"))
    free = min(actual - reserved, actual - held, projected)
    return StockLevel(
        sku=str(row.get("item_code")),
        warehouse_id=str(row.get("warehouse")),
        on_hand=actual,
        reserved=max(reserved, held),
        available=max(free, Decimal(0)),
        projected=projected,
    )


async def reservation_entries(wire: FrappeWire, sales_order: str) -> list[ReservationEntry]:
    """The submitted Stock Reservation Entries of one Sales Order."""
    filters: list[list[Any]] = [
        ["voucher_type", "=", "Sales Order"],
        ["voucher_no", "=", sales_order],
        ["docstatus", "=", 1],
    ]
    rows = await wire.list_all("Stock Reservation Entry", ENTRY_FIELDS, filters)
    return [
        ReservationEntry(
            row_name=str(r.get("voucher_detail_no")),
            sku=str(r.get("item_code")),
            warehouse=str(r.get("warehouse")),
            reserved=to_decimal_or_zero(r.get("reserved_qty"))
            - to_decimal_or_zero(r.get("delivered_qty")),
        )
        for r in rows
    ]


async def whole_number_uoms(wire: FrappeWire, uoms: Sequence[str]) -> dict[str, bool]:
    """`must_be_whole_number` per UOM; a UOM the site does not list counts as whole (safe)."""
    rows = await wire.in_list("UOM", "name", uoms, UOM_FIELDS)
    found = {str(r.get("name")): bool(r.get("must_be_whole_number")) for r in rows}
    return {uom: found.get(uom, True) for uom in uoms}


async def reorder_levels(wire: FrappeWire, skus: Sequence[str]) -> dict[str, list[ReorderLevel]]:
    """Per SKU, its Item Reorder rows (an empty list for an item without any)."""
    rows = await wire.in_list("Item Reorder", "parent", skus, REORDER_FIELDS, parent="Item")
    result: dict[str, list[ReorderLevel]] = {sku: [] for sku in skus}
    for row in sorted(rows, key=lambda r: str(r.get("warehouse"))):
        sku, warehouse = str(row.get("parent")), str(row.get("warehouse"))
        if sku in result:
            result[sku].append(
                ReorderLevel(
                    sku=sku,
                    warehouse_id=warehouse,
                    level=to_decimal_or_zero(row.get("warehouse_reorder_level")),
                    quantity=to_decimal_or_zero(row.get("warehouse_reorder_qty")),
                    group=str(row.get("warehouse_group") or warehouse),
                )
            )
    return result
