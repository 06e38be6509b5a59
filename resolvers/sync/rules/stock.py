"""Rule 6: after an ERP stock change, is the SKU below its reorder level? An event, no write.

The answer rides on the published change (`below_reorder_level`, what `stockChanged(
belowReorderLevel:)` filters on). The level is the setting's `levels[sku]`, else the CRM
product's Reorder_Level, else `default_level`; none of them: never below.
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
        sku = change.record_id.partition("@")[0]
        levels: list[StockLevel] = current.record or []
        available = sum((level.available for level in levels), Decimal(0))
        reorder = await self._level(ctx, sku)
        below = reorder is not None and available < reorder
        if not below:
            return Applied(self.name, fields={BELOW_REORDER_LEVEL: False})
        message = f"{sku}: {available} available, below its reorder level {reorder}"
        log.info("sync: %s", message)
        return Applied(self.name, note=message, fields={BELOW_REORDER_LEVEL: True})

    async def _level(self, ctx: RuleContext, sku: str) -> Decimal | None:
        if sku in self.settings.levels:
            return self.settings.levels[sku]
        product = (await ctx.crm.products_by_sku([sku])).get(sku)
        if product is not None and product.reorder_level is not None:
            return product.reorder_level
        return self.settings.default_level
