"""FxiaokeCRM: the CRM connector, Fxiaoke (纷享销客) OpenAPI to canonical records.

Batching: keys go into `IN` filters of at most 100 values, each paged by `_id GT`, so N keys
cost ceil(N/100) calls (more only when one key matches more than 100 records). An order read
is three queries whatever the number of orders up to 100: the orders, their
SalesOrderProductObj lines (by `order_id IN`, pages of 100 lines), and the lines' products
(for the SKUs); plus SalesOrderObj's describe once per connector.

    crm = FxiaokeCRM(httpx.AsyncClient(), FxiaokeOptions(base_url="https://open.fxiaoke.com",
                     app_id=..., app_secret=..., permanent_code=..., open_user_id=...))
    customers = await crm.get_accounts(["65f0a1000000000000000003"])
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from resolvers.columns import Wanted
from resolvers.cursors import decode_cursor, encode_cursor
from resolvers.errors import BackendRejected, BadCursor, InvalidInput
from resolvers.fxiaoke.auth import FxTokenSource
from resolvers.fxiaoke.limiter import CallLimiter
from resolvers.fxiaoke.mapping import (
    ACCOUNT_FIELDS,
    CONTACT_FIELDS,
    LINE_FIELDS,
    ORDER_FIELDS,
    PRODUCT_FIELDS,
    needs_lines,
    primary_emails,
    to_customer,
    to_ms,
    to_order,
    to_product,
)
from resolvers.fxiaoke.options import FxiaokeOptions
from resolvers.fxiaoke.vocabulary import Vocabulary
from resolvers.fxiaoke.wire import PAGE_MAX, Filter, FxWire, Record, flt, fx_id
from resolvers.http import Requester, Sleep
from resolvers.records import CatalogProduct, Customer, Order, OrderStatus, Page
from resolvers.transport import Transport

NO_FLOWS = {"triggerApprovalFlow": False, "triggerWorkFlow": False}  # both default to true


class FxiaokeCRM:
    """Reads and writes Fxiaoke accounts, orders and products as canonical records."""

    def __init__(
        self,
        client: httpx.AsyncClient | Transport,
        options: FxiaokeOptions,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.options = options
        self.requester = Requester(
            client,
            system="crm",
            label="Fxiaoke CRM",
            timeouts=options.timeouts,
            retry=options.retry,
            protection=options.protection,
            sleep=sleep,
            clock=clock,
        )
        self.auth = FxTokenSource(
            self.requester,
            base_url=options.base_url,
            app_id=options.app_id,
            app_secret=options.app_secret,
            permanent_code=options.permanent_code,
            refresh_s=options.token_refresh_s,
            clock=clock,
            generation=options.auth,
        )
        self.limiter = CallLimiter(
            calls=options.calls_per_interface,
            window_s=options.interface_window_s,
            daily_quota=options.daily_quota,
            tz=options.quota_tz,
            sleep=sleep,
            clock=clock,
            wall=wall,
        )
        self.wire = FxWire(
            self.requester,
            self.auth,
            self.limiter,
            base_url=options.base_url,
            open_user_id=options.open_user_id,
            user_id=options.user_id,
        )
        self.vocabulary = Vocabulary(self.wire, options)
        o = options
        self._account_fields = [*ACCOUNT_FIELDS, *_some(o.credit_limit_field, o.postcode_field)]
        self._order_fields = [
            *ORDER_FIELDS,
            o.order_status_field,
            o.external_ref_field,
            *_some(o.tax_field),
        ]

    async def ping(self) -> None:
        await self.wire.query("AccountObj", [], limit=1, projection=["_id"])

    # accounts

    async def get_accounts(
        self, ids: Sequence[str], *, with_email: bool = True
    ) -> dict[str, Customer]:
        rows = await self.wire.query_in("AccountObj", "_id", ids, projection=self._account_fields)
        return await self._customers(rows, with_email=with_email)

    async def list_accounts(
        self,
        *,
        first: int,
        after: str | None,
        search: str | None = None,
        modified_since: datetime | None = None,
    ) -> Page[Customer]:
        filters = [flt("name", "LIKE", [search])] if search else []
        filters += _since(modified_since)
        rows, cursor = await self._page("AccountObj", self._account_fields, first, after, filters)
        customers = await self._customers(rows)
        return Page(tuple(customers[str(r["_id"])] for r in rows), cursor)

    async def _customers(
        self, rows: Sequence[Record], *, with_email: bool = True
    ) -> dict[str, Customer]:
        ids = [str(r["_id"]) for r in rows]
        contacts = (
            await self.wire.query_in("ContactObj", "account_id", ids, projection=CONTACT_FIELDS)
            if with_email and ids
            else []
        )
        emails = primary_emails(contacts)
        return {
            str(r["_id"]): to_customer(r, email=emails.get(str(r["_id"])), options=self.options)
            for r in rows
        }

    # orders

    async def get_orders(self, ids: Sequence[str], *, wanted: Wanted = None) -> dict[str, Order]:
        """Orders by id; the lines are read only when `wanted` needs them (None: always). When
        it needs them for sure, they are asked beside the orders (lines are keyed by order id,
        known up front): an order page waits for one round trip less."""
        await self.vocabulary.orders()  # the custom fields exist before they are asked for
        orders = self.wire.query_in("SalesOrderObj", "_id", ids, projection=self._order_fields)
        if wanted is not None and "lines" not in wanted:
            return await self._orders(await orders, wanted)
        rows, lines = await asyncio.gather(orders, self._lines(ids))
        return await self._orders(rows, wanted, lines=lines)

    async def find_order(
        self, *, number: str | None = None, external_ref: str | None = None
    ) -> Order | None:
        if number is not None:
            key, value = "name", number
        elif external_ref is not None:
            key, value = self.options.external_ref_field, external_ref
        else:
            raise InvalidInput("Give an order number or an external reference to find an order.")
        await self.vocabulary.orders()
        rows = await self.wire.query(
            "SalesOrderObj", [flt(key, "EQ", [value])], limit=1, projection=self._order_fields
        )
        orders = await self._orders(rows)
        return next(iter(orders.values()), None)

    async def list_orders(
        self,
        *,
        first: int,
        after: str | None,
        status: OrderStatus | None = None,
        customer_id: str | None = None,
        modified_since: datetime | None = None,
        wanted: Wanted = None,
    ) -> Page[Order]:
        await self.vocabulary.orders()
        filters = await self._status_filters(status)
        if customer_id is not None:
            filters.append(flt("account_id", "EQ", [customer_id]))
        filters += _since(modified_since)
        rows, cursor = await self._page("SalesOrderObj", self._order_fields, first, after, filters)
        orders = await self._orders(rows, wanted)
        return Page(tuple(orders[str(r["_id"])] for r in rows), cursor)

    async def orders_by_accounts(
        self,
        account_ids: Sequence[str],
        *,
        status: OrderStatus | None = None,
        wanted: Wanted = None,
    ) -> dict[str, list[Order]]:
        await self.vocabulary.orders()
        extra = await self._status_filters(status)
        rows = await self.wire.query_in(
            "SalesOrderObj", "account_id", account_ids, extra=extra, projection=self._order_fields
        )
        rows.sort(key=lambda r: str(r["_id"]), reverse=True)  # newest first, as listings
        result: dict[str, list[Order]] = {account: [] for account in account_ids}
        for order in (await self._orders(rows, wanted)).values():
            if order.customer_id in result:
                result[order.customer_id].append(order)
        return result

    async def _status_filters(self, status: OrderStatus | None) -> list[Filter]:
        if status is None:
            return []
        labels = [name for name, value in self.options.order_statuses.items() if value == status]
        if not labels:
            raise InvalidInput(
                f"No CRM status label maps to {status.value}; see crm.order_statuses"
            )
        vocabulary = await self.vocabulary.orders()
        values = [v for v, label in vocabulary.labels.items() if label in labels]
        if not values:
            raise InvalidInput(
                f"No option of the CRM's order status field is labelled {' or '.join(labels)} "
                f"(the options: {', '.join(sorted(vocabulary.labels.values()))}); "
                "see crm.order_statuses"
            )
        return [flt(self.options.order_status_field, "IN", values)]

    async def _orders(
        self, rows: Sequence[Record], wanted: Wanted = None, *, lines: list[Record] | None = None
    ) -> dict[str, Order]:
        """Orders with their lines (`lines` when already read): the line query (and the
        products it names) only for the orders whose `wanted` attributes need them (the
        lines, or totals the order lacks)."""
        if not rows:
            return {}
        vocabulary = await self.vocabulary.orders()
        if lines is None:
            lines = await self._lines([str(r["_id"]) for r in rows if needs_lines(r, wanted)])
        by_order: dict[str, list[Record]] = {str(r["_id"]): [] for r in rows}
        for line in lines:
            by_order.setdefault(str(line.get("order_id")), []).append(line)
        product_ids = [str(line.get("product_id") or "") for line in lines]
        products = await self.get_products(product_ids) if product_ids else {}
        return {
            str(r["_id"]): to_order(
                r,
                by_order[str(r["_id"])],
                options=self.options,
                labels=vocabulary.labels,
                products=products,
            )
            for r in rows
        }

    async def _lines(self, order_ids: Sequence[str]) -> list[Record]:
        if not order_ids:
            return []
        return await self.wire.query_in(
            "SalesOrderProductObj", "order_id", order_ids, projection=LINE_FIELDS
        )

    # order writes (the order saga)

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
    ) -> tuple[Order, bool]:
        """The order for `external_ref`, created if absent: (order, created?).

        The external-reference field is unique on the tenant, so a retried or racing create
        is refused; the order it collided with is then read back and returned. Approval and
        work flows are not triggered (both default to true on Fxiaoke)."""
        existing = await self.find_order(external_ref=external_ref)
        if existing is not None:
            return existing, False
        vocabulary = await self.vocabulary.orders()
        record: dict[str, Any] = {
            "dataObjectApiName": "SalesOrderObj",
            "account_id": account_id,
            self.options.order_status_field: vocabulary.value_of(status),
            self.options.external_ref_field: external_ref,
            "remark": subject if not notes else f"{subject}\n{notes}",
            "mc_currency": currency,
        }
        details = [
            {
                "product_id": product_id,
                "quantity": str(quantity),
                "sales_price": str(price),
                "subtotal": str(quantity * price),
            }
            for product_id, quantity, price in lines
        ]
        data = {"object_data": record, "details": {"SalesOrderProductObj": details}}
        try:
            reply = await self.wire.call("/cgi/crm/v2/data/create", data, top=NO_FLOWS, write=True)
        except BackendRejected:
            raced = await self.find_order(external_ref=external_ref)
            if raced is None:
                raise
            return raced, False
        return await self._reread(str(reply.get("dataId") or ""), "create"), True

    async def set_order_status(self, order_id: str, status: str) -> Order:
        if not fx_id(order_id):
            raise InvalidInput(f"{order_id[:40]!r} is not a Fxiaoke record id")
        vocabulary = await self.vocabulary.orders()
        record = {
            "dataObjectApiName": "SalesOrderObj",
            "_id": order_id,
            self.options.order_status_field: vocabulary.value_of(status),
        }
        data = {"object_data": record}
        await self.wire.call("/cgi/crm/v2/data/update", data, top=NO_FLOWS, write=True)
        return await self._reread(order_id, "update")

    async def _reread(self, order_id: str, verb: str) -> Order:
        order = (await self.get_orders([order_id])).get(order_id)
        if order is None:
            raise BackendRejected(
                f"Fxiaoke accepted data/{verb} but SalesOrderObj {order_id[:40]!r} cannot be "
                "read back",
                system="crm",
            )
        return order

    # catalog

    async def get_products(self, ids: Sequence[str]) -> dict[str, CatalogProduct]:
        rows = await self.wire.query_in("ProductObj", "_id", ids, projection=PRODUCT_FIELDS)
        return {str(r["_id"]): self._product(r) for r in rows}

    async def products_by_sku(self, skus: Sequence[str]) -> dict[str, CatalogProduct]:
        rows = await self.wire.query_in(
            "ProductObj", "product_code", skus, projection=PRODUCT_FIELDS
        )
        wanted = set(skus)
        products = (self._product(r) for r in rows)
        return {p.sku: p for p in products if p.sku in wanted}

    async def list_products(self, *, first: int, after: str | None) -> Page[CatalogProduct]:
        rows, cursor = await self._page("ProductObj", PRODUCT_FIELDS, first, after, [])
        return Page(tuple(self._product(r) for r in rows), cursor)

    def _product(self, record: Record) -> CatalogProduct:
        return to_product(record, currency=self.options.default_currency)

    # paging: newest first (as the Zoho connector lists), by `_id LT` the last one seen

    async def _page(
        self,
        api_name: str,
        fields: Sequence[str],
        first: int,
        after: str | None,
        filters: list[Filter],
    ) -> tuple[list[Record], str | None]:
        if first < 1:
            raise InvalidInput(f"first must be at least 1 (got {first})")
        position = decode_cursor(after, kind=f"fx:{api_name}")
        last = position.get("lt")
        if last is not None and (not isinstance(last, str) or not fx_id(last)):
            raise BadCursor("The cursor holds an invalid position; pass pageInfo.endCursor.")
        rows: list[Record] = []
        while len(rows) <= first:  # one row past `first` says whether a next page exists
            before = rows[-1]["_id"] if rows else last
            bound = [flt("_id", "LT", [before])] if before else []
            want = min(first + 1 - len(rows), PAGE_MAX)
            page = await self.wire.query(
                api_name, [*filters, *bound], limit=want, ascending=False, projection=fields
            )
            rows += page
            if len(page) < want:
                break
        if len(rows) <= first:
            return rows, None
        rows = rows[:first]
        return rows, encode_cursor({"k": f"fx:{api_name}", "lt": rows[-1]["_id"]})


def _since(modified_since: datetime | None) -> list[Filter]:
    if modified_since is None:
        return []
    return [flt("last_modified_time", "GTE", [str(to_ms(modified_since))])]


def _some(*names: str | None) -> list[str]:
    return [name for name in names if name]
