"""ERPNext: the SCM connector, Frappe REST (`/api/resource`) to canonical records.

Batching: `filters=[[field,"in",[…]]]` with 100 keys per call and an explicit
`limit_page_length`, paging on while a page comes back full. Shipments cost four calls per
batch whatever their number: `Shipment`, `Shipment Delivery Note` and `Delivery Note Item`
(child listings with `parent=`) and `Address`. Filters are pushed into `filters` and
re-checked on the rows returned (Frappe's `=` follows the database collation, so it may
ignore case). Cursors are opaque over `limit_start`.

    scm = ERPNext(httpx.AsyncClient(), ERPNextOptions(base_url="https://erp.example.com",
                  api_key=..., api_secret=...))
    stock = await scm.list_bins(["SKU-1"])
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from resolvers.breaker import Clock
from resolvers.canonical import (
    format_naive_datetime,
)
from resolvers.columns import ColumnTable, Wanted
from resolvers.cursors import decode_cursor, encode_cursor, offset_of
from resolvers.erpnext.mapping import (
    BIN_FIELDS,
    CUSTOMER_FIELDS,
    ITEM_FIELDS,
    ORDER_FIELDS,
    ORDER_ITEM_FIELDS,
    SHIPMENT_BASE,
    SHIPMENT_COLUMNS,
    SHIPMENT_FIELDS,
    WAREHOUSE_FIELDS,
    order_rank,
    to_erp_customer,
    to_erp_order,
    to_item,
    to_stock_level,
    to_warehouse,
)
from resolvers.erpnext.masters import ERPNextMasterReads, ERPNextMasterWrites
from resolvers.erpnext.mirrors import ErpMirrors
from resolvers.erpnext.options import ERPNextOptions
from resolvers.erpnext.shipments import ShipmentAssembler
from resolvers.erpnext.stock import (
    reorder_levels,
    reservable_stock,
    reservation_entries,
    whole_number_uoms,
)
from resolvers.erpnext.wire import Doc, Filter, FrappeWire
from resolvers.errors import InvalidInput
from resolvers.http import Requester, Sleep
from resolvers.records import (
    CatalogProduct,
    ErpCustomer,
    ErpOrder,
    Item,
    Page,
    ReorderLevel,
    ReservationEntry,
    Shipment,
    ShipmentStatus,
    StockLevel,
    Warehouse,
)
from resolvers.transport import Transport

MAX_FIRST = 500


class ERPNext(ERPNextMasterReads, ERPNextMasterWrites):
    """Reads items, stock, warehouses and shipments; writes customers and sales orders (and,
    for the sync rules and reconciliation's repairs, customers' names and addresses and items;
    whole master tables for reconciliation: `resolvers.erpnext.masters`)."""

    def __init__(
        self,
        client: httpx.AsyncClient | Transport,
        options: ERPNextOptions,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self.options = options
        self.tz = ZoneInfo(options.site_tz)
        requester = Requester(
            client,
            system="scm",
            label="ERPNext",
            timeouts=options.timeouts,
            retry=options.retry,
            protection=options.protection,
            sleep=sleep,
            clock=clock,
        )
        self.requester = requester
        self.wire = FrappeWire(
            requester,
            base_url=options.base_url,
            api_key=options.api_key,
            api_secret=options.api_secret,
            page_size=options.page_size,
        )
        self.shipments = ShipmentAssembler(self.wire, options=options, tz=self.tz)
        self.mirrors = ErpMirrors(self.wire, tz=self.tz)

    # stock

    async def get_items(self, skus: Sequence[str]) -> dict[str, Item]:
        rows = await self.wire.in_list("Item", "item_code", skus, ITEM_FIELDS)
        currency = self.options.company_currency
        items = (to_item(r, tz=self.tz, currency=currency) for r in rows)
        wanted = set(skus)
        return {i.sku: i for i in items if i.sku in wanted}

    async def list_bins(self, skus: Sequence[str]) -> dict[str, list[StockLevel]]:
        """Stock per SKU and warehouse; a SKU with no Bin gets an empty list."""
        rows = await self.wire.in_list("Bin", "item_code", skus, BIN_FIELDS)
        result: dict[str, list[StockLevel]] = {sku: [] for sku in skus}
        for level in sorted((to_stock_level(r) for r in rows), key=lambda s: s.warehouse_id):
            if level.sku in result:
                result[level.sku].append(level)
        return result

    async def reorder_levels(self, skus: Sequence[str]) -> dict[str, list[ReorderLevel]]:
        """The Item Reorder rows per SKU (ERPNext's re-order level per warehouse)."""
        return await reorder_levels(self.wire, skus)

    async def reservable_stock(self, skus: Sequence[str]) -> dict[str, list[StockLevel]]:
        """Stock per SKU and warehouse that an order may still reserve (`available`)."""
        return await reservable_stock(self.wire, skus)

    async def reservation_entries(self, sales_order: str) -> list[ReservationEntry]:
        return await reservation_entries(self.wire, sales_order)

    async def whole_number_uoms(self, uoms: Sequence[str]) -> dict[str, bool]:
        return await whole_number_uoms(self.wire, uoms)

    async def list_warehouses(self) -> list[Warehouse]:
        rows = await self.wire.list_all("Warehouse", WAREHOUSE_FIELDS, [["is_group", "=", 0]])
        return [to_warehouse(r) for r in rows]

    # shipments

    async def get_shipments(
        self,
        ids: Sequence[str],
        *,
        carrier: str | None = None,
        with_destination: bool = True,
        wanted: Wanted = None,
    ) -> dict[str, Shipment]:
        """Shipments by name; `with_destination=False` leaves `destination` None; `wanted`:
        the attributes to fill (resolvers.columns; None: all)."""
        fields = _shipment_columns(wanted, carrier)
        rows = await self.wire.in_list("Shipment", "name", ids, fields, _carrier(carrier))
        found = await self.shipments.assemble(rows, carrier, with_destination=with_destination)
        return {s.id: s for s in found}

    async def shipments_by_orders(
        self,
        crm_order_ids: Sequence[str],
        *,
        carrier: str | None = None,
        with_destination: bool = True,
        with_lines: bool = True,
        wanted: Wanted = None,
    ) -> dict[str, list[Shipment]]:
        """Shipments per CRM order id; `with_destination=False` leaves `destination` None,
        `with_lines=False` leaves `lines` empty (no delivery-note calls); `wanted`: the
        attributes to fill (resolvers.columns; None: all)."""
        fields = _shipment_columns(wanted, carrier)
        rows = await self.wire.in_list(
            "Shipment", "custom_crm_order_id", crm_order_ids, fields, _carrier(carrier)
        )
        result: dict[str, list[Shipment]] = {order_id: [] for order_id in crm_order_ids}
        found = await self.shipments.assemble(
            rows, carrier, with_destination=with_destination, with_lines=with_lines
        )
        for shipment in found:
            if shipment.order_id in result:
                result[shipment.order_id].append(shipment)
        return result

    async def list_shipments(
        self,
        *,
        first: int,
        after: str | None,
        status: ShipmentStatus | None = None,
        carrier: str | None = None,
        modified_since: datetime | None = None,
        with_destination: bool = True,
        wanted: Wanted = None,
    ) -> Page[Shipment]:
        if first < 1:
            raise InvalidInput(f"first must be at least 1 (got {first})")
        first = min(first, MAX_FIRST)
        start = offset_of(decode_cursor(after, kind="erpnext:Shipment"))
        filters, alternatives = self.shipments.status_filters(status)
        filters += _carrier(carrier)
        if modified_since is not None:
            filters.append(["modified", ">=", format_naive_datetime(modified_since, self.tz)])
        rows = await self.wire.get_list(
            "Shipment",
            _shipment_columns(wanted, carrier),
            filters,
            or_filters=alternatives,
            order_by="name desc",
            start=start,
            limit=first + 1,  # one extra row tells whether another page exists, without a total
        )
        shipments = await self.shipments.assemble(
            rows[:first], carrier, with_destination=with_destination
        )
        if status is not None:
            shipments = [s for s in shipments if s.status == status]
        more = len(rows) > first
        cursor = encode_cursor({"k": "erpnext:Shipment", "o": start + first}) if more else None
        return Page(tuple(shipments), cursor)

    # sales order mirrors

    async def erp_orders_by_crm_ids(
        self, crm_order_ids: Sequence[str], *, with_lines: bool = True
    ) -> dict[str, ErpOrder]:
        """The best ERP mirror per CRM order id; `with_lines=False` leaves `lines` empty and
        skips the `Sales Order Item` call (fulfillment reads only the header)."""
        docs = await self.wire.in_list(
            "Sales Order", "custom_crm_order_id", crm_order_ids, ORDER_FIELDS
        )
        best: dict[str, Doc] = {}
        for doc in docs:
            key = str(doc.get("custom_crm_order_id"))
            if key not in best or order_rank(doc) > order_rank(best[key]):
                best[key] = doc
        names = [str(d["name"]) for d in best.values()]
        rows: list[Doc] = []
        if with_lines:
            rows = await self.wire.in_list(
                "Sales Order Item", "parent", names, ORDER_ITEM_FIELDS, parent="Sales Order"
            )
        by_parent: dict[str, list[Doc]] = defaultdict(list)
        for row in rows:
            by_parent[str(row.get("parent"))].append(row)
        return {
            key: to_erp_order(doc, by_parent[str(doc["name"])], tz=self.tz)
            for key, doc in best.items()
        }

    # writes (the order saga)

    async def create_item(self, product: CatalogProduct) -> Item:
        """The ERP item of a CRM product (code, name, description, unit), enabled as the
        product is active; a stock item in the options' item group."""
        doc = {
            "item_code": product.sku,
            "item_name": product.name,
            "item_group": self.options.item_group,
            "stock_uom": product.uom or "Nos",
            "description": product.description,
            "is_stock_item": 1,
            "disabled": 0 if product.active else 1,
        }
        row = await self.wire.insert("Item", doc)
        return to_item(row, tz=self.tz, currency=self.options.company_currency)

    async def find_customer(self, crm_account_id: str) -> ErpCustomer | None:
        rows = await self.wire.get_list(
            "Customer", CUSTOMER_FIELDS, [["custom_crm_account_id", "=", crm_account_id]], limit=2
        )
        exact = [r for r in rows if r.get("custom_crm_account_id") == crm_account_id]
        return to_erp_customer(exact[0]) if exact else None

    async def create_customer(self, *, customer_name: str, crm_account_id: str) -> ErpCustomer:
        doc = {
            "customer_name": customer_name,
            "customer_type": "Company",
            "custom_crm_account_id": crm_account_id,
        }
        return to_erp_customer(await self.wire.insert("Customer", doc))

    async def create_sales_order(
        self,
        *,
        customer: str,
        crm_order_id: str,
        lines: Sequence[tuple[str, Decimal, Decimal, str]],
        delivery_date: date,
        currency: str,
        reserve_stock: bool = True,
    ) -> ErpOrder:
        """A draft Sales Order mirroring a CRM order; submit it to reserve stock."""
        when = delivery_date.isoformat()
        doc: dict[str, Any] = {
            "customer": customer,
            "custom_crm_order_id": crm_order_id,
            "order_type": "Sales",
            "delivery_date": when,
            "currency": currency,
            "reserve_stock": 1 if reserve_stock else 0,
            "items": [
                {
                    "item_code": sku,
                    "qty": float(qty),
                    "rate": float(rate),
                    "warehouse": warehouse,
                    "delivery_date": when,
                }
                for sku, qty, rate, warehouse in lines
            ],
        }
        if self.options.company:
            doc["company"] = self.options.company
        return self._order(await self.wire.insert("Sales Order", doc))

    async def submit_sales_order(self, name: str) -> ErpOrder:
        return self._order(await self.wire.update("Sales Order", name, {"docstatus": 1}))

    async def cancel_sales_order(self, name: str) -> ErpOrder:
        return self._order(await self.wire.update("Sales Order", name, {"docstatus": 2}))

    async def mirrors_of(self, crm_order_id: str) -> list[ErpOrder]:
        """Every Sales Order (draft, submitted, cancelled) mirroring one CRM order, headers only:
        what the order process reads back to learn whether a write landed."""
        docs = await self.wire.in_list(
            "Sales Order", "custom_crm_order_id", [crm_order_id], ORDER_FIELDS
        )
        return [to_erp_order(doc, [], tz=self.tz) for doc in docs]

    async def delete_sales_order(self, name: str) -> None:
        """Delete a draft Sales Order (Frappe refuses to delete a submitted one)."""
        path = f"{quote('Sales Order')}/{quote(name, safe='')}"
        await self.wire.call("DELETE", path, idempotent=False)

    # reconciliation: sales orders in pages, every mirror per CRM order (resolvers.erpnext.mirrors;
    # items and customers in pages and by crosswalk: resolvers.erpnext.masters)

    async def list_sales_orders(self, *, first: int, after: str | None) -> Page[ErpOrder]:
        return await self.mirrors.list_sales_orders(first=first, after=after)

    async def mirrors_by_crm_ids(
        self, crm_order_ids: Sequence[str], *, with_lines: bool = True
    ) -> dict[str, list[ErpOrder]]:
        return await self.mirrors.mirrors_by_crm_ids(crm_order_ids, with_lines=with_lines)

    def _order(self, doc: Doc) -> ErpOrder:
        items = doc.get("items")
        rows = [r for r in items if isinstance(r, dict)] if isinstance(items, list) else []
        return to_erp_order(doc, rows, tz=self.tz)

    async def ping(self) -> None:
        await self.wire.get_list("Warehouse", ("name",), limit=1)


def _carrier(carrier: str | None) -> list[Filter]:
    return [["carrier", "=", carrier]] if carrier is not None else []


SHIPMENT_TABLE = ColumnTable(full=SHIPMENT_FIELDS, base=SHIPMENT_BASE, columns=SHIPMENT_COLUMNS)


def _shipment_columns(wanted: Wanted, carrier: str | None) -> tuple[str, ...]:
    """The Shipment `fields` for `wanted`, with the carrier when a carrier filter is
    re-checked on the rows returned."""
    if carrier is not None and wanted is not None:
        wanted = wanted | {"carrier"}
    return SHIPMENT_TABLE.select(wanted)
