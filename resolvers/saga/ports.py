"""The connector methods the order process calls: `ZohoCRM` and `ERPNext` satisfy these."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Protocol

from resolvers.erpnext.stock import ReservationEntry
from resolvers.records import (
    CatalogProduct,
    Customer,
    ErpCustomer,
    ErpOrder,
    Item,
    Order,
    OrderStatus,
    StockLevel,
)

# Zoho `Sales_Orders.Status` picklist values the process writes.
CRM_PENDING = "Pending Approval"
CRM_CREATED = "Created"
CRM_APPROVED = "Approved"
CRM_CANCELLED = "Cancelled"


class CrmPort(Protocol):
    async def get_accounts(self, ids: Sequence[str]) -> dict[str, Customer]: ...

    async def products_by_sku(self, skus: Sequence[str]) -> dict[str, CatalogProduct]: ...

    async def orders_by_accounts(
        self, account_ids: Sequence[str], *, status: OrderStatus | None = None
    ) -> dict[str, list[Order]]: ...

    async def find_order(
        self, *, number: str | None = None, external_ref: str | None = None
    ) -> Order | None: ...

    async def get_orders(self, ids: Sequence[str]) -> dict[str, Order]: ...

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


class ScmPort(Protocol):
    async def get_items(self, skus: Sequence[str]) -> dict[str, Item]: ...

    async def list_bins(self, skus: Sequence[str]) -> dict[str, list[StockLevel]]: ...

    async def reservable_stock(self, skus: Sequence[str]) -> dict[str, list[StockLevel]]: ...

    async def reservation_entries(self, sales_order: str) -> list[ReservationEntry]: ...

    async def whole_number_uoms(self, uoms: Sequence[str]) -> dict[str, bool]: ...

    async def find_customer(self, crm_account_id: str) -> ErpCustomer | None: ...

    async def create_customer(self, *, customer_name: str, crm_account_id: str) -> ErpCustomer: ...

    async def erp_orders_by_crm_ids(self, crm_order_ids: Sequence[str]) -> dict[str, ErpOrder]: ...

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

    async def mirrors_of(self, crm_order_id: str) -> list[ErpOrder]: ...

    async def delete_sales_order(self, name: str) -> None: ...
