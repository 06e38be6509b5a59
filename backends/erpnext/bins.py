"""Bin quantities, recomputed from submitted documents (dialects.md §B.6, §B.8.4).

reserved_qty   = Σ (qty − delivered_qty) × conversion_factor over rows of submitted Sales
                 Orders that are not Closed / On Hold, for stock items only
reserved_stock = Σ (reserved_qty − delivered_qty) over submitted Stock Reservation Entries
projected_qty  = actual + ordered + indented + planned − reserved_qty − reserved_for_production
                 − reserved_for_sub_contract − reserved_for_production_plan
"""

from __future__ import annotations

from collections.abc import Iterable

from .db import Db
from .errors import FrappeError

Pair = tuple[str, str]

_RESERVED = """
    SELECT COALESCE(SUM(MAX(i.qty - i.delivered_qty, 0) * COALESCE(i.conversion_factor, 1)), 0)
    FROM "tabSales Order Item" i
    JOIN "tabSales Order" so ON so.name = i.parent
    LEFT JOIN "tabItem" it ON it.name = i.item_code
    WHERE i.item_code = b.item_code AND i.warehouse = b.warehouse
      AND so.docstatus = 1 AND so.status NOT IN ('Closed', 'On Hold')
      AND COALESCE(it.is_stock_item, 1) = 1
"""
_RESERVED_STOCK = """
    SELECT COALESCE(SUM(MAX(s.reserved_qty - s.delivered_qty, 0)), 0)
    FROM "tabStock Reservation Entry" s
    WHERE s.item_code = b.item_code AND s.warehouse = b.warehouse AND s.docstatus = 1
"""
_PROJECTED = """
    projected_qty = actual_qty + ordered_qty + indented_qty + planned_qty - reserved_qty
        - reserved_qty_for_production - reserved_qty_for_sub_contract
        - reserved_qty_for_production_plan
"""
_PAIRS = """
    SELECT DISTINCT i.item_code, i.warehouse FROM "tabSales Order Item" i
    JOIN "tabSales Order" so ON so.name = i.parent
    WHERE so.docstatus = 1 AND i.warehouse IS NOT NULL
    UNION SELECT DISTINCT item_code, warehouse FROM "tabStock Reservation Entry" WHERE docstatus = 1
"""

# Constant SQL pieces only: no request value is ever spliced in.
_UPDATE = (
    "UPDATE tabBin AS b SET reserved_qty = (" + _RESERVED + "), "  # noqa: S608
    "reserved_stock = (" + _RESERVED_STOCK + ")"
)
_ONE_PAIR = ", modified = ? WHERE b.item_code = ? AND b.warehouse = ?"
_UPDATE_PROJECTED = "UPDATE tabBin SET " + _PROJECTED  # noqa: S608
_UOM = """
    UPDATE tabBin SET stock_uom = (SELECT stock_uom FROM tabItem WHERE name = tabBin.item_code)
    WHERE stock_uom IS NULL
"""


def recompute(store: Db, pairs: Iterable[Pair] | None) -> None:
    """Recompute the given (item_code, warehouse) Bins, or all of them when `pairs` is None."""
    wanted = (
        [(r["item_code"], r["warehouse"]) for r in store.query(_PAIRS)]
        if pairs is None
        else list(pairs)
    )
    for item_code, warehouse in wanted:
        ensure(store, item_code, warehouse)
    if pairs is None:
        store.execute(_UPDATE)
        store.execute(_UPDATE_PROJECTED)
        store.execute(_UOM)
        return
    stamp = store.now()
    for pair in wanted:
        store.execute(_UPDATE + _ONE_PAIR, (stamp, *pair))
        store.execute(_UPDATE_PROJECTED + " WHERE item_code = ? AND warehouse = ?", pair)


def ensure(store: Db, item_code: str, warehouse: str) -> None:
    """Create the Bin of a pair on first use, as ERPNext does."""
    found = store.query(
        "SELECT 1 FROM tabBin WHERE item_code = ? AND warehouse = ?", (item_code, warehouse)
    )
    if found:
        return
    uom = store.query("SELECT stock_uom FROM tabItem WHERE name = ?", (item_code,))
    stamp = store.now()
    store.execute(
        "INSERT INTO tabBin (name, owner, creation, modified, modified_by, docstatus, idx, "
        "item_code, warehouse, actual_qty, reserved_qty, ordered_qty, indented_qty, planned_qty, "
        "projected_qty, reserved_qty_for_production, reserved_qty_for_sub_contract, "
        "reserved_qty_for_production_plan, reserved_stock, stock_uom, valuation_rate, stock_value) "
        "VALUES (?, 'Administrator', ?, ?, 'Administrator', 0, 0, ?, ?, "
        "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ?, 0, 0)",
        (
            store.next_name("MAT-BIN-.YYYY.-.#####"),
            stamp,
            stamp,
            item_code,
            warehouse,
            uom[0]["stock_uom"] if uom else "Nos",
        ),
    )


def get(store: Db, item_code: str, warehouse: str) -> dict[str, float]:
    rows = store.query(
        "SELECT actual_qty, reserved_qty, reserved_stock, projected_qty FROM tabBin "
        "WHERE item_code = ? AND warehouse = ?",
        (item_code, warehouse),
    )
    return rows[0] if rows else {"actual_qty": 0.0, "reserved_qty": 0.0, "reserved_stock": 0.0}


def move(store: Db, item_code: str, warehouse: str, qty: float) -> None:
    """Add `qty` (negative to issue) to the pair's actual_qty."""
    ensure(store, item_code, warehouse)
    store.execute(
        "UPDATE tabBin SET actual_qty = actual_qty + ?, modified = ? "
        "WHERE item_code = ? AND warehouse = ?",
        (qty, store.now(), item_code, warehouse),
    )


_QUANTITIES = ("actual_qty", "reserved_qty", "ordered_qty", "indented_qty", "projected_qty",
               "planned_qty")  # fmt: skip


def on_trash(store: Db, doctype: str, name: str) -> None:
    """Deleting an Item or a Warehouse deletes its Bins, as Frappe's `on_trash` hooks do
    (item.py, warehouse.py); a Warehouse must first be empty and have no child warehouse."""
    if doctype == "Warehouse":
        _check_warehouse_empty(store, name)
    column = {"Item": "item_code", "Warehouse": "warehouse"}.get(doctype)
    if column is not None:
        store.execute(f'DELETE FROM "tabBin" WHERE "{column}" = ?', (name,))  # noqa: S608


def _check_warehouse_empty(store: Db, name: str) -> None:
    held = " OR ".join(f'"{q}" != 0' for q in _QUANTITIES)
    sql = f'SELECT item_code FROM "tabBin" WHERE warehouse = ? AND ({held}) LIMIT 1'  # noqa: S608
    for row in store.query(sql, (name,)):
        item = row["item_code"]
        message = f"Warehouse {name} can not be deleted as quantity exists for Item {item}"
        raise FrappeError("ValidationError", message)
    if store.query('SELECT 1 FROM "tabWarehouse" WHERE parent_warehouse = ? LIMIT 1', (name,)):
        message = "Child warehouse exists for this warehouse. You can not delete this warehouse."
        raise FrappeError("ValidationError", message)
