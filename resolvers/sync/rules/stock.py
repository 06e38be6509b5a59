"""Rule 6: after an ERP stock change, is the SKU below its reorder level? An event, no write.

The answer rides on the published change (`below_reorder_level`, what `stockChanged(
belowReorderLevel:)` filters on). The level is, first one found:

1. the setting's `levels[sku]` (the operator's word), against the SKU's available quantity
   in every warehouse;
2. ERPNext's own `Item Reorder` row for the changed Bin's warehouse, with ERPNext's rule
   (projected quantity at or below the level: `ReorderLevel.below`), the verdict the graph's
   `StockLevel.belowReorderLevel` and the console show;
3. the CRM product's Reorder_Level, else `default_level`, against the available quantity in
   every warehouse; none of them: never below.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from resolvers.records import StockLevel

from ..change import Change
from .base import Applied, RuleContext, Snapshot
from .settings import StockRule

log = logging.getLogger("crossdock.sync")
BELOW_REORDER_LEVEL = "below_reorder_level"  # schema.subscriptions reads this key


class StockBelowReorder:
    name = "stock_below_reorder"

    def __init__(self, settings: StockRule) -> None:
        self.settings = settings

    def applies(self, change: Change) -> bool:
        return change.system == "erp" and change.entity == "stock"

    async def apply(self, ctx: RuleContext, change: Change, current: Snapshot) -> Applied:
        sku, _, warehouse = change.record_id.partition("@")
        levels: list[StockLevel] = current.record or []
        if sku not in self.settings.levels:
            erpnext = await self._erpnext_verdict(ctx, sku, warehouse, levels)
            if erpnext is not None:
                return self._answer(erpnext, f"{change.record_id}: at or below ERPNext's level")
        available = sum((level.available for level in levels), Decimal(0))
        reorder = await self._level(ctx, sku)
        below = reorder is not None and available < reorder
        return self._answer(below, f"{sku}: {available} available, below its level {reorder}")

    def _answer(self, below: bool, message: str) -> Applied:
        if not below:
            return Applied(self.name, fields={BELOW_REORDER_LEVEL: False})
        log.info("sync: %s", message)
        return Applied(self.name, note=message, fields={BELOW_REORDER_LEVEL: True})

    async def _erpnext_verdict(
        self, ctx: RuleContext, sku: str, warehouse: str, levels: list[StockLevel]
    ) -> bool | None:
        """ERPNext's verdict for the changed Bin, when an Item Reorder row covers it."""
        rows = (await ctx.scm.reorder_levels([sku])).get(sku, [])
        row = next((r for r in rows if r.warehouse_id == warehouse), None)
        stock = next((level for level in levels if level.warehouse_id == warehouse), None)
        return None if row is None or stock is None else row.below(stock)

    async def _level(self, ctx: RuleContext, sku: str) -> Decimal | None:
        if sku in self.settings.levels:
            return self.settings.levels[sku]
        product = (await ctx.crm.products_by_sku([sku])).get(sku)
        if product is not None and product.reorder_level is not None:
            return product.reorder_level
        return self.settings.default_level
