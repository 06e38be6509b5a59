"""Product (the CRM catalog half merged with the ERP item half by SKU), stock and warehouses.

`load_product` starts the product's stock (Bin) and warehouse loads together with the catalog
lookup when the query selects them, and hands them to the Product: `stock`, `available` and
`StockLevel.warehouse` then answer synchronously (no await per order line). A Product built
without them (`product_of`, root lists) still loads them lazily; a failed load fails only
the fields that needed it, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from operator import attrgetter
from typing import Any

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

from resolvers import records
from schema.common import Money
from schema.context import Info
from schema.execution.batch_resolvers import batched, each
from schema.fields import resolver
from schema.prefetch import Outcome, settle
from schema.selection import names_under, prefetches, selected_names
from schema.stock_reorder import below_reorder_levels, reorder_levels, reorder_quantities

Warehouses = dict[str, records.Warehouse]


@strawberry.type(
    description="A warehouse in the SCM (ERPNext `Warehouse`).",
    directives=[Key(fields=FieldSet("id"))],
)
class Warehouse:
    id: strawberry.ID = strawberry.field(description='The ERPNext name, e.g. "Stores - AC".')
    name: str = strawberry.field(description='The warehouse name, e.g. "Stores".')
    company: str | None = strawberry.field(description="The company that owns it.")

    @classmethod
    def of(cls, r: records.Warehouse) -> Warehouse:
        return cls(id=strawberry.ID(r.id), name=r.name, company=r.company)


# What a product's selection may ask for and still cost no catalog or item lookup, when its
# parent (an order or shipment line) references its SKU: the SKU itself, and ERP stock.
HELD_BY_REFERENCE = frozenset({"sku", "stock", "available", "__typename"})
# What the Bin row answers about its warehouse: a selection of no more costs no Warehouse call.
HELD_BY_BIN = frozenset({"id", "__typename"})


def products_stock(products: list[Product], info: Info) -> list[Any]:
    """Every product's stock levels. A product met at several places (one SKU on several order
    lines: one Product) builds its levels once; each place gets its own list of them."""
    built: dict[int, list[StockLevel]] = {}
    answers: list[Any] = []
    for product in products:
        levels = built.get(id(product))
        if levels is None:
            answer = each(product._stock, info)
            if answer.__class__ is not list:  # an awaitable or an error: that place's alone
                answers.append(answer)
                continue
            levels = built[id(product)] = answer
        answers.append(list(levels))
    return answers


def products_available(products: list[Product], info: Info) -> list[Any]:
    return [each(product._available, info) for product in products]


def stock_warehouses(levels: list[StockLevel], info: Info) -> list[Any]:
    if selected_names(info) <= HELD_BY_BIN:  # each Bin names its warehouse: no list to read
        named: dict[str, Warehouse] = {}  # one object per warehouse for the whole batch
        answers: list[Any] = []
        for level in levels:
            warehouse_id = level.record.warehouse_id
            found = named.get(warehouse_id)
            if found is None:
                found = named[warehouse_id] = level._warehouse(None)
            answers.append(found)
        return answers
    return [each(level._warehouse_for, info) for level in levels]


def bin_quantity(name: str) -> Callable[[list[StockLevel], object], list[float]]:
    """The batch resolver of a Bin quantity: the record's Decimal `name` as a float, converted
    once per StockLevel (a product's levels appear under each line that names the product)."""
    read = attrgetter(name)

    def quantities(levels: list[StockLevel], _info: object) -> list[float]:
        converted: dict[int, float] = {}
        answers: list[float] = []
        for level in levels:
            quantity = converted.get(id(level))
            if quantity is None:
                quantity = converted[id(level)] = float(read(level.record))
            answers.append(quantity)
        return answers

    quantities.__name__ = f"stock_{name}"
    return quantities


@strawberry.type(description="Stock of one product in one warehouse (ERPNext `Bin`).")
class StockLevel:
    record: strawberry.Private[records.StockLevel]
    # Converted when selected: float(Decimal) goes through a string, and converting all four
    # quantities of every Bin was 2 % of the CPU of the peer's W2 (it selects two).
    on_hand: float = batched(bin_quantity("on_hand"), "Quantity physically in the warehouse.")
    reserved: float = batched(bin_quantity("reserved"), "Quantity reserved for sales orders.")
    available: float = batched(bin_quantity("available"), "On hand minus reserved.")
    projected: float = batched(
        bin_quantity("projected"), "Expected after open orders and receipts."
    )

    known: strawberry.Private[Outcome[Warehouses] | None] = None

    @classmethod
    def of(cls, r: records.StockLevel, known: Outcome[Warehouses] | None = None) -> StockLevel:
        return cls(record=r, known=known)

    warehouse = batched(stock_warehouses, "The warehouse holding this stock.", "Warehouse")
    reorder_level = batched(
        reorder_levels,
        "ERPNext's re-order level for this item here (its Item Reorder row); null without one.",
        "float | None",
    )
    reorder_quantity = batched(
        reorder_quantities,
        "The quantity ERPNext orders when the level is reached; null without a level.",
        "float | None",
    )
    below_reorder_level = batched(
        below_reorder_levels,
        "True when the projected quantity is at or below the re-order level (ERPNext's "
        "auto re-order rule); false without a level; null when the level is checked in "
        "another (group) warehouse.",
        "bool | None",
    )

    def _warehouse_for(self, info: Info) -> Warehouse | Awaitable[Warehouse]:
        if self.known is not None:
            return self._warehouse(self.known.get())
        return self._warehouse_later(info)

    async def _warehouse_later(self, info: Info) -> Warehouse:
        return self._warehouse(await info.context.loaders.warehouses())

    def _warehouse(self, known: Warehouses | None) -> Warehouse:
        found = (known or {}).get(self.record.warehouse_id)
        if found is None:  # a Bin may name a warehouse that was renamed or disabled since
            return Warehouse(
                id=strawberry.ID(self.record.warehouse_id),
                name=self.record.warehouse_id,
                company=None,
            )
        return Warehouse.of(found)


@strawberry.type(
    description="A product, keyed by SKU: catalog data from the CRM, cost and stock from the SCM.",
    directives=[Key(fields=FieldSet("sku"))],
)
class Product:
    sku: strawberry.ID = strawberry.field(
        description="The stock keeping unit, shared by both systems."
    )
    catalog: strawberry.Private[records.CatalogProduct | None]
    preloaded_item: strawberry.Private[records.Item | None] = None
    bins: strawberry.Private[Outcome[list[records.StockLevel] | None] | None] = None
    warehouses: strawberry.Private[Outcome[Warehouses] | None] = None

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

    stock = batched(products_stock, "Stock per warehouse (SCM).", "list[StockLevel] | None")
    available = batched(
        products_available, "Quantity available across all warehouses (SCM).", "float | None"
    )

    def _stock(self, info: Info) -> list[StockLevel] | Awaitable[list[StockLevel]] | None:
        if self.bins is not None:
            return [StockLevel.of(b, self.warehouses) for b in self.bins.get() or []]
        return self._later(info, self._levels)

    def _available(self, info: Info) -> float | Awaitable[float] | None:
        if self.bins is not None:
            return _total(self.bins.get())
        return self._later(info, _total)

    def _levels(self, bins: list[records.StockLevel] | None) -> list[StockLevel]:
        return [StockLevel.of(b) for b in bins or []]

    async def _later(
        self, info: Info, then: Callable[[list[records.StockLevel] | None], Any]
    ) -> Any:
        return then(await info.context.loaders.bins.load(str(self.sku)))


def _total(bins: list[records.StockLevel] | None) -> float:
    return float(sum((b.available for b in bins or []), Decimal(0)))


Steps = tuple[tuple[str, str], ...]  # (Type, field) steps from the resolving field


async def load_product(info: Info, sku: str, *, referenced: bool = False) -> Product | None:
    """The product for a SKU: the CRM half if the catalog has it, else the ERP item alone.

    Stock and warehouses, when selected, load in parallel with the catalog lookup.
    `referenced`: the parent holds this SKU (see `load_products`).
    """
    return (await load_products(info, [sku], referenced=referenced))[sku].get()


async def load_products(
    info: Info, skus: Sequence[str], *, under: Steps = (), referenced: bool = False
) -> dict[str, Outcome[Product]]:
    """Products for many SKUs with one await each for catalog, items, stock and warehouses.

    `under` is the path from the resolving field to the products (e.g. from `Order.lines`:
    `(("OrderLine", "product"),)`), so only what is selected below them is loaded. A failed
    catalog or item load fails every product; failed stock fails only `stock`/`available`.

    `referenced`: the parent (an order or shipment line) holds the SKU. A selection answered
    by what the parent holds costs no call: when it asks for nothing but `sku` and ERP stock
    (`HELD_BY_REFERENCE`), the catalog and item lookups are skipped and every SKU is a
    product. (A root lookup by SKU always looks up: there, existence is the question.)
    """
    loaders = info.context.loaders
    unique = list(dict.fromkeys(skus))
    path = tuple(name for _, name in under)
    stock = (*under, ("Product", "stock"))
    wants_bins = prefetches(info, *stock) or prefetches(info, *under, ("Product", "available"))
    bins = asyncio.ensure_future(settle(loaders.bins.load_many(unique))) if wants_bins else None
    warehouses = None
    if prefetches(info, *stock, ("StockLevel", "warehouse")) and not (
        names_under(info, *path, "stock", "warehouse") <= HELD_BY_BIN
    ):
        warehouses = asyncio.ensure_future(settle(loaders.warehouses()))
    looked_up = not (referenced and names_under(info, *path) <= HELD_BY_REFERENCE)
    if looked_up:
        halves = await settle(_halves(info, unique))
    else:
        halves = Outcome(value=[(None, None)] * len(unique))
    found_bins = None if bins is None else await bins
    found_warehouses = None if warehouses is None else await warehouses
    if halves.error is not None:
        return {sku: Outcome(error=halves.error) for sku in unique}
    result: dict[str, Outcome[Product]] = {}
    for n, (sku, (catalog, item)) in enumerate(zip(unique, halves.value or [], strict=True)):
        if catalog is None and item is None and looked_up:
            result[sku] = Outcome()  # neither system knows the SKU
            continue
        product = Product(
            sku=strawberry.ID(sku),
            catalog=catalog,
            preloaded_item=item,
            bins=None if found_bins is None else _nth(found_bins, n),
            warehouses=found_warehouses,
        )
        result[sku] = Outcome(value=product)
    return result


Half = tuple[records.CatalogProduct | None, records.Item | None]


async def _halves(info: Info, skus: list[str]) -> list[Half]:
    """The catalog product of each SKU; the ERP item only for those the catalog lacks."""
    loaders = info.context.loaders
    catalog = await loaders.catalog_by_sku.load_many(skus)
    missing = [sku for sku, found in zip(skus, catalog, strict=True) if found is None]
    items = dict(zip(missing, await loaders.items.load_many(missing), strict=True))
    return [(found, items.get(sku)) for sku, found in zip(skus, catalog, strict=True)]


def _nth(
    levels: Outcome[list[list[records.StockLevel] | None]], n: int
) -> Outcome[list[records.StockLevel] | None]:
    if levels.error is not None:
        return Outcome(error=levels.error)
    return Outcome(value=(levels.value or [])[n])


def product_of(catalog: records.CatalogProduct) -> Product:
    return Product(sku=strawberry.ID(catalog.sku), catalog=catalog)
