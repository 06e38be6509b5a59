"""Category 5, reservations: what the ERP holds per SKU and warehouse (`Bin.reserved_qty`)
equals what the open approved CRM orders need.

Need, per SKU and warehouse = Σ, over every CRM order in status Approved, of each line of its
submitted ERP mirror: ordered minus delivered quantity, in the line's warehouse. The scan
adds orders to `Needs` page by page (memory: one number per SKU and warehouse), then compares
each Bin. A difference has causes the other categories name (a mirror of a cancelled order,
lines that drifted) or ones outside Crossdock (an ERP-only sales order, one put On Hold, a
Bin not reposted); the Bin itself is the ERP's ledger, so a person repairs it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from resolvers.records import OrderStatus, StockLevel

from ..bundles import SUBMITTED, OrderBundle
from ..findings import Category, Difference, Finding, Fix, RecordRef, Rule, Severity
from ..normalise import number

BIN_MISMATCH = Rule(
    Category.RESERVATIONS,
    "reserved_differs",
    Severity.WARNING,
    "The ERP's reserved quantity of a SKU in a warehouse differs from what open approved "
    "CRM orders need.",
)
RULES = (BIN_MISMATCH,)
_ZERO = Decimal(0)


class Needs:
    """What open approved orders need, per (SKU, warehouse), accumulated a page at a time."""

    def __init__(self) -> None:
        self.need: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        self.orders: dict[tuple[str, str], int] = defaultdict(int)

    def add(self, bundle: OrderBundle) -> None:
        if bundle.order.status is not OrderStatus.APPROVED:
            return
        mirror = next((m for m in bundle.mirrors if m.docstatus == SUBMITTED), None)
        if mirror is None:
            return  # no warehouse to count it in: a mirror finding says so
        for line in mirror.lines:
            if line.warehouse is None:
                continue
            key = (line.sku, line.warehouse)
            self.need[key] += max(line.quantity - line.delivered, _ZERO)
            self.orders[key] += 1

    def compare(self, levels: Iterable[StockLevel]) -> list[Finding]:
        """Findings for the Bins given (each is then settled) whose reserved ≠ need."""
        found = []
        for level in levels:
            key = (level.sku, level.warehouse_id)
            need = self.need.pop(key, _ZERO)
            count = self.orders.pop(key, 0)
            if level.reserved != need:
                found.append(_finding(level.sku, level.warehouse_id, need, level.reserved, count))
        return found

    def unmatched(self, skus: Iterable[str]) -> list[Finding]:
        """Needs of these SKUs in warehouses where the ERP has no Bin (so reserves nothing)."""
        wanted = set(skus)
        keys = [k for k in self.need if k[0] in wanted and self.need[k] != _ZERO]
        return [
            _finding(sku, wh, self.need.pop((sku, wh)), _ZERO, self.orders.pop((sku, wh), 0))
            for sku, wh in keys
        ]


def _finding(sku: str, warehouse: str, need: Decimal, reserved: Decimal, orders: int) -> Finding:
    gap = reserved - need
    direction = "more" if gap > 0 else "less"
    return Finding(
        BIN_MISMATCH,
        (sku, warehouse),
        f"The ERP reserves {number(reserved)} of {sku} in {warehouse}, {number(abs(gap))} "
        f"{direction} than the {orders} open approved CRM order(s) there need ({number(need)}).",
        (
            RecordRef("erp", "bin", f"{sku}@{warehouse}", warehouse),
            RecordRef("crm", "product", sku, None),
        ),
        Fix(
            "Find the cause (mirror findings for this SKU, ERP sales orders outside Crossdock, "
            "orders On Hold or Closed) and repost the Bin once it is settled.",
            who="the ERP stock controller",
            why="a Bin is the ERP's own ledger, recomputed from its documents; Crossdock cannot "
            "write it and must not guess which document is wrong",
        ),
        (Difference("reserved", number(need), number(reserved)),),
    )
