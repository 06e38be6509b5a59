"""Per-request batching loaders over the two connectors.

A `Loaders` is built per request (never at module level: a cache shared between callers
would leak rows). Each loader collects the keys its resolvers ask for in one tick, asks its
connector once for all of them (the connector splits by its system's batch limit), and
answers one value per key, in key order, None where the backend has nothing. When a batch
call fails with a BackendError, every key of that batch fails with it, so only the fields
that needed the batch are nulled.

Row filters (`{"Shipment": {"carrier": "DHL"}}`) are pushed into the shipment calls and
re-checked on what comes back; a None value means the caller may see no rows at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader

from resolvers.batch_sizes import report_batch
from resolvers.columns import Wanted
from resolvers.ports import CrmPort, ErpPort
from resolvers.records import (
    CatalogProduct,
    Customer,
    ErpOrder,
    Item,
    Order,
    OrderStatus,
    Page,
    ReorderLevel,
    Shipment,
    ShipmentStatus,
    StockLevel,
    Warehouse,
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
RowFilters = Mapping[str, Mapping[str, str | None]]


class NoRows(Exception):
    """A row rule hides every row of a type; callers answer empty without a backend call."""


@dataclass(frozen=True)
class ShipmentScope:
    """The carrier a caller is bound to by a row rule (None: unrestricted)."""

    carrier: str | None = None
    restricted: bool = False

    @classmethod
    def from_filters(cls, filters: RowFilters) -> ShipmentScope:
        rule = filters.get("Shipment", {})
        if "carrier" not in rule:
            return cls()
        return cls(carrier=rule["carrier"], restricted=True)

    def push(self, asked: str | None) -> str | None:
        """The carrier to send to the backend; raises NoRows when nothing can match."""
        if not self.restricted:
            return asked
        if self.carrier is None or (asked is not None and asked != self.carrier):
            raise NoRows
        return self.carrier

    def allows(self, shipment: Shipment) -> bool:
        return not self.restricted or shipment.carrier == self.carrier


async def _by_key(
    fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]], keys: list[K]
) -> list[V | None]:
    unique = list(dict.fromkeys(keys))
    report_batch(fetch, len(unique))
    found = await fetch(unique)
    return [found.get(key) for key in keys]


class KeyedLoader(Generic[K, V]):
    """A typed face over one aiodataloader DataLoader.

    The DataLoader's batch function refers to `fetch` only, not back to this object: a
    request's loaders form no reference cycle, so its cached records are freed as soon as the
    request (or the export page) ends, without waiting for the cyclic collector.
    """

    def __init__(self, fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]]) -> None:
        self._cache: dict[K, Any] = {}  # the DataLoader's cache map, so it can be sized
        self._loader: DataLoader[K, V | None] = DataLoader(
            batch_load_fn=partial(_by_key, fetch), cache_map=self._cache
        )

    def __len__(self) -> int:
        """How many keys are cached (loaded or loading)."""
        return len(self._cache)

    async def load(self, key: K) -> V | None:
        value: V | None = await self._loader.load(key)
        return value

    async def load_many(self, keys: Iterable[K]) -> list[V | None]:
        values: list[V | None] = await self._loader.load_many(list(keys))
        return values

    async def load_each(self, keys: Iterable[K]) -> list[V | Exception | None]:
        """Each key's value, or the exception its load raised: one batch, no task per key.

        The futures are awaited one after the other, not gathered: they settle together
        (one batch), and a gather would add a callback and a step per key.
        """
        futures = [self._loader.load(key) for key in keys]
        values: list[V | Exception | None] = []
        for future in futures:
            try:
                values.append(await future)
            except Exception as error:  # that key's failure; cancellation propagates
                values.append(error)
        return values

    def prime(self, key: K, value: V) -> None:
        self._loader.prime(key, value)


# Reference data a request's pages may share (see Loaders.share_dimensions).
DIMENSIONS = ("customers", "accounts", "catalog_by_sku", "catalog_by_id", "items", "bins")
SHARED_KEYS = 10_000


class _Sources:
    """The batch functions behind a request's loaders: the connectors and the row rule's
    shipment scope, and nothing that refers back to the loaders (no reference cycle)."""

    def __init__(self, crm: CrmPort, scm: ErpPort, scope: ShipmentScope) -> None:
        self.crm = crm
        self.scm = scm
        self.shipment_scope = scope

    async def orders(self, ids: list[str], *, wanted: Wanted) -> dict[str, Order]:
        return await self.crm.get_orders(ids, wanted=wanted)

    async def orders_by_customer(
        self, keys: list[tuple[str, OrderStatus | None]], *, wanted: Wanted = None
    ) -> dict[tuple[str, OrderStatus | None], list[Order]]:
        by_status: dict[OrderStatus | None, list[str]] = {}
        for account_id, status in keys:
            by_status.setdefault(status, []).append(account_id)
        crm = self.crm
        calls = [
            crm.orders_by_accounts(ids, status=st, wanted=wanted) for st, ids in by_status.items()
        ]
        found: dict[tuple[str, OrderStatus | None], list[Order]] = {}
        for status, result in zip(by_status, await asyncio.gather(*calls), strict=True):
            for account_id in by_status[status]:
                found[(account_id, status)] = result.get(account_id, [])
        return found

    async def accounts(self, ids: list[str]) -> dict[str, Customer]:
        return await self.crm.get_accounts(ids, with_email=False)

    async def erp_orders(self, crm_order_ids: list[str]) -> dict[str, ErpOrder]:
        return await self.scm.erp_orders_by_crm_ids(crm_order_ids, with_lines=False)

    async def shipments(
        self, ids: list[str], *, with_destination: bool, wanted: Wanted = None
    ) -> dict[str, Shipment]:
        try:
            carrier = self.shipment_scope.push(None)
        except NoRows:
            return {}
        found = await self.scm.get_shipments(
            ids, carrier=carrier, with_destination=with_destination, wanted=wanted
        )
        return {k: s for k, s in found.items() if self.shipment_scope.allows(s)}

    async def shipments_by_order(
        self,
        order_ids: list[str],
        *,
        with_destination: bool,
        with_lines: bool,
        wanted: Wanted = None,
    ) -> dict[str, list[Shipment]]:
        try:
            carrier = self.shipment_scope.push(None)
        except NoRows:
            return {}
        found = await self.scm.shipments_by_orders(
            order_ids,
            carrier=carrier,
            with_destination=with_destination,
            with_lines=with_lines,
            wanted=wanted,
        )
        allows = self.shipment_scope.allows
        return {k: [s for s in group if allows(s)] for k, group in found.items()}


class Loaders:
    """All loaders of one request. Example: `await ctx.loaders.customers.load("4876876000001")`."""

    def __init__(self, crm: CrmPort, scm: ErpPort, *, row_filters: RowFilters) -> None:
        self.crm = crm
        self.scm = scm
        self.shipment_scope = ShipmentScope.from_filters(row_filters)
        sources = _Sources(crm, scm, self.shipment_scope)
        self.customers: KeyedLoader[str, Customer] = KeyedLoader(crm.get_accounts)
        # the same accounts without the Contacts search, for queries that skip `email`
        self.accounts: KeyedLoader[str, Customer] = KeyedLoader(sources.accounts)
        self.orders: KeyedLoader[str, Order] = KeyedLoader(crm.get_orders)
        self.orders_by_customer: KeyedLoader[tuple[str, OrderStatus | None], list[Order]] = (
            KeyedLoader(sources.orders_by_customer)
        )
        self.catalog_by_sku: KeyedLoader[str, CatalogProduct] = KeyedLoader(crm.products_by_sku)
        self.catalog_by_id: KeyedLoader[str, CatalogProduct] = KeyedLoader(crm.get_products)
        self.items: KeyedLoader[str, Item] = KeyedLoader(scm.get_items)
        self.bins: KeyedLoader[str, list[StockLevel]] = KeyedLoader(scm.list_bins)
        self.reorder_levels: KeyedLoader[str, list[ReorderLevel]] = KeyedLoader(scm.reorder_levels)
        # shipments by id and per order, by what the operation reads of them: with or without
        # destinations (the `Address` call) and lines (the two delivery-note calls)
        self._sources = sources
        self._shipments_by_id: dict[tuple[bool, Wanted], KeyedLoader[str, Shipment]] = {}
        self._shipments_by_order: dict[
            tuple[bool, bool, Wanted], KeyedLoader[str, list[Shipment]]
        ] = {}
        # mirrors for fulfillment: header fields only (no `Sales Order Item` call)
        self.erp_orders: KeyedLoader[str, ErpOrder] = KeyedLoader(sources.erp_orders)
        # orders by the attributes the request needs of them (resolvers.columns): `orders`
        # and `orders_by_customer` above read them in full
        self._orders_for: dict[Wanted, KeyedLoader[str, Order]] = {None: self.orders}
        self._by_customer_for: dict[
            Wanted, KeyedLoader[tuple[str, OrderStatus | None], list[Order]]
        ] = {None: self.orders_by_customer}
        self._warehouses: asyncio.Future[dict[str, Warehouse]] | None = None

    def share_dimensions(self, source: Loaders, *, limit: int = SHARED_KEYS) -> None:
        """Use `source`'s caches of reference data (customers, catalog products, items,
        stock, warehouses) where each holds at most `limit` keys.

        For the pages of one request (a view export), which meet the same customers and
        products again on every page: they are fetched once per export instead of once per
        page, as of when first read. Orders and shipments stay per page (memory stays at a
        page); the caches shared stop growing at `limit` keys (a fresh one takes over).
        """
        for name in DIMENSIONS:
            loader = getattr(source, name)
            if len(loader) <= limit:
                setattr(self, name, loader)
        known = source._warehouses
        if known is not None and known.done() and not known.cancelled() and not known.exception():
            self._warehouses = known

    def orders_for(self, wanted: Wanted) -> KeyedLoader[str, Order]:
        """The orders-by-id loader whose reads fill `wanted` (None: in full), one per set."""
        loader = self._orders_for.get(wanted)
        if loader is None:
            fetch = partial(self._sources.orders, wanted=wanted)
            loader = self._orders_for[wanted] = KeyedLoader(fetch)
        return loader

    def orders_by_customer_for(
        self, wanted: Wanted
    ) -> KeyedLoader[tuple[str, OrderStatus | None], list[Order]]:
        """The customers' orders loader whose reads fill `wanted` (None: in full)."""
        loader = self._by_customer_for.get(wanted)
        if loader is None:
            fetch = partial(self._sources.orders_by_customer, wanted=wanted)
            loader = self._by_customer_for[wanted] = KeyedLoader(fetch)
        return loader

    def shipment_by_id(
        self, *, with_destination: bool, wanted: Wanted = None
    ) -> KeyedLoader[str, Shipment]:
        """The shipments-by-id loader to use: one per request and shape (the attributes
        `wanted`, resolvers.columns), chosen by the query."""
        shape = (with_destination, wanted)
        loader = self._shipments_by_id.get(shape)
        if loader is None:
            fetch = partial(
                self._sources.shipments, with_destination=with_destination, wanted=wanted
            )
            loader = self._shipments_by_id[shape] = KeyedLoader(fetch)
        return loader

    def order_shipments(
        self, *, with_destination: bool, with_lines: bool = True, wanted: Wanted = None
    ) -> KeyedLoader[str, list[Shipment]]:
        """The shipments-by-order loader to use: one per request and shape (the attributes
        `wanted`, resolvers.columns), chosen by what the query reads."""
        shape = (with_destination, with_lines, wanted)
        loader = self._shipments_by_order.get(shape)
        if loader is None:
            fetch = partial(
                self._sources.shipments_by_order,
                with_destination=with_destination,
                with_lines=with_lines,
                wanted=wanted,
            )
            loader = self._shipments_by_order[shape] = KeyedLoader(fetch)
        return loader

    def warehouses(self) -> Awaitable[dict[str, Warehouse]]:
        """All warehouses by id, fetched with one call per request however often asked."""
        if self._warehouses is None:
            self._warehouses = asyncio.ensure_future(self._fetch_warehouses())
        return self._warehouses

    async def _fetch_warehouses(self) -> dict[str, Warehouse]:
        return {w.id: w for w in await self.scm.list_warehouses()}

    async def list_shipments(
        self,
        *,
        first: int,
        after: str | None,
        status: ShipmentStatus | None,
        carrier: str | None,
        modified_since: datetime | None = None,
        with_destination: bool = True,
        wanted: Wanted = None,
    ) -> Page[Shipment]:
        """One page of shipments, the row rule's carrier pushed down and re-checked."""
        try:
            pushed = self.shipment_scope.push(carrier)
        except NoRows:
            return Page(items=())
        page = await self.scm.list_shipments(
            first=first,
            after=after,
            status=status,
            carrier=pushed,
            modified_since=modified_since,
            with_destination=with_destination,
            wanted=wanted,
        )
        visible = tuple(s for s in page.items if self.shipment_scope.allows(s))
        by_id = self.shipment_by_id(with_destination=with_destination, wanted=wanted)
        for shipment in visible:
            by_id.prime(shipment.id, shipment)
        return Page(items=visible, next_cursor=page.next_cursor, extra=page.extra)
