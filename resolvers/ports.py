"""The two ports: what Crossdock asks of a CRM and of an ERP, whatever the connector.

Everything above the connectors depends on these two Protocols and nothing else of them: the
per-request loaders and the schema (reads), the order process (reads and writes), the views
(through the schema) and the gateway's readiness probe (`ping`). A connector implements one
port: `resolvers.zoho.ZohoCRM` is a `CrmPort`, `resolvers.erpnext.ERPNext` an `ErpPort`
(checked by mypy in each connector's package and by tests/resolvers/test_ports.py). Another
CRM is one more package implementing `CrmPort`.

Methods take and return canonical records (`resolvers.records`); a backend failure is a
`resolvers.errors.BackendError`. Batch reads answer a mapping with an entry per key found
(a missing key is absent, never None).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from resolvers.columns import Wanted
from resolvers.http import Requester
from resolvers.records import (
    Address,
    CatalogProduct,
    Customer,
    ErpAddress,
    ErpCustomer,
    ErpOrder,
    Item,
    Order,
    OrderStatus,
    Page,
    ReorderLevel,
    ReservationEntry,
    Shipment,
    ShipmentStatus,
    StockLevel,
    Warehouse,
)

# The CRM order statuses the order process writes (`upsert_order`, `set_order_status`), as
# Zoho's `Sales_Orders.Status` picklist names them; the connector reads them back through its
# `order_statuses` mapping onto `OrderStatus`.
CRM_PENDING = "Pending Approval"
CRM_CREATED = "Created"
CRM_APPROVED = "Approved"
CRM_CANCELLED = "Cancelled"


class CrmPort(Protocol):
    """Customers (accounts), sales orders and the product catalog of the CRM."""

    requester: Requester  # its HTTP client: breaker, retries, and the observer of each try

    async def ping(self) -> None: ...

    # accounts
    async def get_accounts(
        self, ids: Sequence[str], *, with_email: bool = True
    ) -> dict[str, Customer]: ...
    async def list_accounts(
        self,
        *,
        first: int,
        after: str | None,
        search: str | None = None,
        modified_since: datetime | None = None,
    ) -> Page[Customer]: ...

    # orders
    # `wanted`: the order attributes the read must fill (resolvers.columns; None: all)
    async def get_orders(
        self, ids: Sequence[str], *, wanted: Wanted = None
    ) -> dict[str, Order]: ...
    async def find_order(
        self, *, number: str | None = None, external_ref: str | None = None
    ) -> Order | None: ...
    async def list_orders(
        self,
        *,
        first: int,
        after: str | None,
        status: OrderStatus | None = None,
        customer_id: str | None = None,
        modified_since: datetime | None = None,
        wanted: Wanted = None,
    ) -> Page[Order]: ...
    async def orders_by_accounts(
        self,
        account_ids: Sequence[str],
        *,
        status: OrderStatus | None = None,
        wanted: Wanted = None,
    ) -> dict[str, list[Order]]: ...
    async def upsert_order(
        self,
        *,
        external_ref: str,
        subject: str,
        account_id: str,
        status: str,
        lines: Sequence[tuple[str, Decimal, Decimal]],
        currency: str,
        notes: str | None = None,
    ) -> tuple[Order, bool]: ...
    async def set_order_status(self, order_id: str, status: str) -> Order: ...

    # catalog
    async def get_products(self, ids: Sequence[str]) -> dict[str, CatalogProduct]: ...
    async def products_by_sku(self, skus: Sequence[str]) -> dict[str, CatalogProduct]: ...
    async def list_products(self, *, first: int, after: str | None) -> Page[CatalogProduct]: ...


class ErpPort(Protocol):
    """Items, stock, warehouses and shipments of the ERP, and the mirrors of CRM orders."""

    requester: Requester  # its HTTP client: breaker, retries, and the observer of each try

    async def ping(self) -> None: ...

    # items and stock
    async def get_items(self, skus: Sequence[str]) -> dict[str, Item]: ...
    async def list_bins(self, skus: Sequence[str]) -> dict[str, list[StockLevel]]: ...
    async def reorder_levels(self, skus: Sequence[str]) -> dict[str, list[ReorderLevel]]: ...
    async def list_warehouses(self) -> list[Warehouse]: ...
    async def reservable_stock(self, skus: Sequence[str]) -> dict[str, list[StockLevel]]: ...
    async def reservation_entries(self, sales_order: str) -> list[ReservationEntry]: ...
    async def whole_number_uoms(self, uoms: Sequence[str]) -> dict[str, bool]: ...

    # shipments
    # `wanted`: the shipment attributes the read must fill (resolvers.columns; None: all)
    async def get_shipments(
        self,
        ids: Sequence[str],
        *,
        carrier: str | None = None,
        with_destination: bool = True,
        wanted: Wanted = None,
    ) -> dict[str, Shipment]: ...
    async def shipments_by_orders(
        self,
        crm_order_ids: Sequence[str],
        *,
        carrier: str | None = None,
        with_destination: bool = True,
        with_lines: bool = True,
        wanted: Wanted = None,
    ) -> dict[str, list[Shipment]]: ...
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
    ) -> Page[Shipment]: ...

    # customers and sales orders (the mirrors of CRM orders)
    async def find_customer(self, crm_account_id: str) -> ErpCustomer | None: ...
    async def list_customers(self, *, first: int, after: str | None) -> Page[ErpCustomer]: ...
    async def list_items(self, *, first: int, after: str | None) -> Page[Item]: ...
    async def create_item(self, product: CatalogProduct) -> Item: ...
    async def create_customer(self, *, customer_name: str, crm_account_id: str) -> ErpCustomer: ...

    # master data kept in step with the CRM (resolvers.sync rules)
    async def update_customer(self, name: str, *, customer_name: str) -> ErpCustomer: ...
    async def customer_addresses(self, customer: str) -> dict[str, ErpAddress]: ...
    async def save_address(
        self, customer: str, *, kind: str, title: str, address: Address, name: str | None = None
    ) -> ErpAddress: ...
    async def update_item(
        self, sku: str, *, name: str, description: str | None, disabled: bool
    ) -> Item: ...

    async def erp_orders_by_crm_ids(
        self, crm_order_ids: Sequence[str], *, with_lines: bool = True
    ) -> dict[str, ErpOrder]: ...
    async def mirrors_of(self, crm_order_id: str) -> list[ErpOrder]: ...
    async def create_sales_order(
        self,
        *,
        customer: str,
        crm_order_id: str,
        lines: Sequence[tuple[str, Decimal, Decimal, str]],
        delivery_date: date,
        currency: str,
        reserve_stock: bool = True,
    ) -> ErpOrder: ...
    async def submit_sales_order(self, name: str) -> ErpOrder: ...
    async def cancel_sales_order(self, name: str) -> ErpOrder: ...
    async def delete_sales_order(self, name: str) -> None: ...

    # reconciliation: whole tables in pages (list_items, list_customers above; keyset cursors),
    # every mirror of a CRM order, customers by crosswalk (repairs use the master writes above)
    async def customers_by_crm_ids(
        self, crm_account_ids: Sequence[str]
    ) -> dict[str, list[ErpCustomer]]: ...
    async def list_sales_orders(self, *, first: int, after: str | None) -> Page[ErpOrder]: ...
    async def mirrors_by_crm_ids(
        self, crm_order_ids: Sequence[str], *, with_lines: bool = True
    ) -> dict[str, list[ErpOrder]]: ...
