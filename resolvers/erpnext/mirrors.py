"""ERPNext Sales Orders as reconciliation reads them: every mirror of each CRM order (draft,
submitted and cancelled, not only the best one), with line rates and creation times, and a
scan of all Sales Orders in pages.

Mirrors of a batch of CRM orders cost two calls per 200 ids (`Sales Order`, then `Sales Order
Item` with `parent=`); a page of the scan costs one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from resolvers.erpnext.keyset import keyset_page
from resolvers.erpnext.mapping import ORDER_FIELDS, ORDER_ITEM_FIELDS, to_erp_order
from resolvers.erpnext.wire import Doc, FrappeWire
from resolvers.records import ErpOrder, Page

MIRROR_FIELDS = (*ORDER_FIELDS, "creation", "customer")
MIRROR_ITEM_FIELDS = (*ORDER_ITEM_FIELDS, "rate")


class ErpMirrors:
    """Sales Orders of one Frappe site that mirror (or claim to mirror) CRM orders."""

    def __init__(self, wire: FrappeWire, *, tz: ZoneInfo) -> None:
        self.wire = wire
        self.tz = tz

    async def mirrors_by_crm_ids(
        self, crm_order_ids: Sequence[str], *, with_lines: bool = True
    ) -> dict[str, list[ErpOrder]]:
        """Every Sales Order per CRM order id, oldest first (an id with none is absent)."""
        docs = await self.wire.in_list(
            "Sales Order", "custom_crm_order_id", crm_order_ids, MIRROR_FIELDS
        )
        wanted = set(crm_order_ids)
        docs = [d for d in docs if d.get("custom_crm_order_id") in wanted]
        lines = await self._lines([str(d["name"]) for d in docs]) if with_lines else {}
        result: dict[str, list[ErpOrder]] = defaultdict(list)
        for doc in sorted(docs, key=lambda d: (str(d.get("creation") or ""), str(d["name"]))):
            order = to_erp_order(doc, lines.get(str(doc["name"]), []), tz=self.tz)
            result[str(doc["custom_crm_order_id"])].append(order)
        return dict(result)

    async def list_sales_orders(self, *, first: int, after: str | None) -> Page[ErpOrder]:
        """All Sales Orders in name order, headers only."""
        rows, cursor = await keyset_page(
            self.wire, "Sales Order", MIRROR_FIELDS, first=first, after=after
        )
        return Page(tuple(to_erp_order(r, [], tz=self.tz) for r in rows), cursor)

    async def _lines(self, names: Sequence[str]) -> dict[str, list[Doc]]:
        rows = await self.wire.in_list(
            "Sales Order Item", "parent", names, MIRROR_ITEM_FIELDS, parent="Sales Order"
        )
        by_parent: dict[str, list[Doc]] = defaultdict(list)
        for row in rows:
            by_parent[str(row.get("parent"))].append(row)
        return by_parent
