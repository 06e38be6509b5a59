"""Product (the CRM catalog half merged with the ERP item half by SKU), stock and warehouses."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from resolvers import records
from schema.common import Money
from schema.context import Info
from schema.fields import resolver


@strawberry.type(description="A warehouse in the SCM (ERPNext `Warehouse`).")
class Warehouse:
    id: strawberry.ID = strawberry.field(description='The ERPNext name, e.g. "Stores - AC".')
    name: str = strawberry.field(description='The warehouse name, e.g. "Stores".')
    company: str | None = strawberry.field(description="The company that owns it.")

    @classmethod
    def of(cls, r: records.Warehouse) -> Warehouse:
        return cls(id=strawberry.ID(r.id), name=r.name, company=r.company)


@strawberry.type(description="Stock of one product in one warehouse (ERPNext `Bin`).")
class StockLevel:
    record: strawberry.Private[records.StockLevel]
    on_hand: float = strawberry.field(description="Quantity physically in the warehouse.")
    reserved: float = strawberry.field(description="Quantity reserved for sales orders.")
    available: float = strawberry.field(description="On hand minus reserved.")
    projected: float = strawberry.field(description="Expected after open orders and receipts.")

    @classmethod
    def of(cls, r: records.StockLevel) -> StockLevel:
        return cls(
            record=r,
            on_hand=float(r.on_hand),
            reserved=float(r.reserved),
            available=float(r.available),
            projected=float(r.projected),
        )

    @resolver("The warehouse holding this stock.")
    async def warehouse(self, info: Info) -> Warehouse:
        known = await info.context.loaders.warehouses()
        found = known.get(self.record.warehouse_id)
        if found is None:  # a Bin may name a warehouse that was renamed or disabled since
            return Warehouse(
                id=strawberry.ID(self.record.warehouse_id),
                name=self.record.warehouse_id,
                company=None,
            )
        return Warehouse.of(found)


@strawberry.type(
    description="A product, keyed by SKU: catalog data from the CRM, cost and stock from the SCM."
)
class Product:
    sku: strawberry.ID = strawberry.field(
        description="The stock keeping unit, shared by both systems."
    )
    catalog: strawberry.Private[records.CatalogProduct | None]
    preloaded_item: strawberry.Private[records.Item | None] = None

    async def _item(self, info: Info) -> records.Item | None:
        if self.preloaded_item is not None:
            return self.preloaded_item
        return await info.context.loaders.items.load(str(self.sku))

    @resolver("The product name (CRM; the ERP item name if the CRM lacks it).")
    def name(self) -> str:
        if self.catalog is not None:
            return self.catalog.name
        assert self.preloaded_item is not None  # load_product guarantees one half
        return self.preloaded_item.name

    @resolver("Longer description.")
    def description(self) -> str | None:
        if self.catalog is not None:
            return self.catalog.description
        return self.preloaded_item.description if self.preloaded_item else None

    @resolver("Whether the product may be sold.")
    def active(self) -> bool:
        if self.catalog is not None:
            return self.catalog.active
        return self.preloaded_item is not None and not self.preloaded_item.disabled

    @resolver("Unit of measure (CRM usage unit, else the ERP stock unit).")
    async def uom(self, info: Info) -> str | None:
        if self.catalog is not None and self.catalog.uom:
            return self.catalog.uom
        item = await self._item(info)
        return item.uom if item else None

    @resolver("List price from the CRM catalog.")
    def list_price(self) -> Money | None:
        return Money.of(self.catalog.list_price) if self.catalog else None

    @resolver("Valuation rate from the SCM. Finance.")
    async def unit_cost(self, info: Info) -> Money | None:
        item = await self._item(info)
        return Money.of(item.unit_cost) if item else None

    @resolver("Stock per warehouse (SCM).")
    async def stock(self, info: Info) -> list[StockLevel] | None:
        bins = await info.context.loaders.bins.load(str(self.sku))
        return [StockLevel.of(b) for b in bins or []]

    @resolver("Quantity available across all warehouses (SCM).")
    async def available(self, info: Info) -> float | None:
        bins = await info.context.loaders.bins.load(str(self.sku))
        return float(sum((b.available for b in bins or []), Decimal(0)))


async def load_product(info: Info, sku: str) -> Product | None:
    """The product for a SKU: the CRM half if the catalog has it, else the ERP item alone."""
    catalog = await info.context.loaders.catalog_by_sku.load(sku)
    if catalog is not None:
        return Product(sku=strawberry.ID(sku), catalog=catalog)
    item = await info.context.loaders.items.load(sku)
    if item is None:
        return None
    return Product(sku=strawberry.ID(sku), catalog=None, preloaded_item=item)


def product_of(catalog: records.CatalogProduct) -> Product:
    return Product(sku=strawberry.ID(catalog.sku), catalog=catalog)
