"""Rule 2: a CRM Product created or edited → its ERP Item (by SKU: `Product_Code` =
`item_code`): name, description, disabled (= not active); created when missing, with its UOM.

The UOM is written only when the item is created: ERPNext refuses to change the stock UOM of
an item that has transactions, so a differing UOM later is reported, not written. An ERP
item with no CRM product (an ERP change, or a CRM product deleted) is reported, never deleted.
"""

from __future__ import annotations

import dataclasses
import logging

from resolvers.records import CatalogProduct, Item

from ..change import Change
from .base import Applied, RuleContext, Snapshot, Write
from .settings import ProductRule

log = logging.getLogger("crossdock.sync")
NAME_MAX = 140


class ProductToItem:
    name = "product_to_item"

    def __init__(self, settings: ProductRule) -> None:
        self.settings = settings

    def applies(self, change: Change) -> bool:
        crm_product = change.system == "crm" and change.entity == "product"
        return crm_product or (change.system == "erp" and change.entity == "item")

    async def apply(self, ctx: RuleContext, change: Change, current: Snapshot) -> Applied:
        if change.system == "erp":
            return await self._orphan(ctx, change, current)
        product = current.record
        if not isinstance(product, CatalogProduct):
            return self._report(f"CRM product {change.record_id} is gone; its ERP item is kept")
        if not product.sku:
            return Applied(self.name, note=f"CRM product {product.id} has no Product_Code (SKU)")
        async with ctx.lock(f"erp:item:{product.sku}"):
            item = (await ctx.scm.get_items([product.sku])).get(product.sku)
            if item is None:
                return await self._create(ctx, product)
            return await self._update(ctx, product, item)

    async def _create(self, ctx: RuleContext, product: CatalogProduct) -> Applied:
        if not self.settings.create_missing or not product.active:
            why = "inactive" if self.settings.create_missing else "create_missing is off"
            return Applied(self.name, note=f"no ERP item {product.sku} ({why}): not created")
        unit = self._uom(product.uom) or None
        item = await ctx.scm.create_item(dataclasses.replace(product, uom=unit))
        what = f"ERP item {item.sku} created"
        return Applied(self.name, (Write("erp", "item", item.sku, what, item.updated_at),), what)

    async def _update(self, ctx: RuleContext, product: CatalogProduct, item: Item) -> Applied:
        name, description = product.name[:NAME_MAX], product.description or ""
        notes = []
        unit = self._uom(product.uom)
        if unit and item.uom and unit != item.uom:
            notes.append(f"UOM differs (CRM {product.uom}, ERP {item.uom}): not changed")
        same = (item.name, item.description or "", item.disabled) == (
            name,
            description,
            not product.active,
        )
        if same:
            return Applied(self.name, note="; ".join([f"ERP item {item.sku} in step", *notes]))
        updated = await ctx.scm.update_item(
            item.sku, name=name, description=description, disabled=not product.active
        )
        what = f"ERP item {item.sku} updated"
        write = Write("erp", "item", item.sku, what, updated.updated_at)
        return Applied(self.name, (write,), "; ".join([what, *notes]))

    async def _orphan(self, ctx: RuleContext, change: Change, current: Snapshot) -> Applied:
        item = current.record
        if not isinstance(item, Item) or not self.settings.report_orphan_items:
            return Applied(self.name)
        if item.sku in await ctx.crm.products_by_sku([item.sku]):
            return Applied(self.name)
        return self._report(f"ERP item {item.sku} has no CRM product; it is not deleted")

    def _report(self, message: str) -> Applied:
        log.warning("sync: %s", message)
        return Applied(self.name, note=f"reported: {message}")

    def _uom(self, unit: str | None) -> str:
        return self.settings.uoms.get(unit, unit) if unit else ""
