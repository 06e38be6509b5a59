"""ZohoCRM: the CRM connector, Zoho CRM v8 Records API to canonical records.

Batching: `ids=` takes 100 ids per call and search `in` 100 values, so N keys cost
ceil(N/100) calls (plus the primary-contact search for accounts). Search `equals`/`in` on
text is fuzzy (§A.5), so exact matches are re-checked here. Line SKUs come from
`Product_Name.Product_Code` when Zoho echoes it; otherwise from one batched Products call.
Filters are pushed down as search criteria; search stops at 2,000 rows (a BackendRejected
says so), plain listings switch to `page_token` past 2,000.

    crm = ZohoCRM(httpx.AsyncClient(), ZohoOptions(accounts_url="https://accounts.zoho.eu",
                  client_id=..., client_secret=..., refresh_token=...))
    customers = await crm.get_accounts(["4150868000000002175"])
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime

import httpx

from resolvers.breaker import Clock
from resolvers.columns import ColumnTable, Wanted
from resolvers.errors import InvalidInput
from resolvers.http import Requester, Sleep
from resolvers.records import CatalogProduct, Customer, Order, OrderStatus, Page
from resolvers.transport import Transport
from resolvers.zoho.auth import ZohoTokenSource
from resolvers.zoho.mapping import (
    ACCOUNT_FIELDS,
    CONTACT_FIELDS,
    ORDER_BASE,
    ORDER_COLUMNS,
    ORDER_FIELDS,
    PRODUCT_FIELDS,
    all_of,
    condition,
    lacks_inputs,
    primary_emails,
    since_conditions,
    status_conditions,
    to_customer,
    to_order,
    to_product,
    unresolved_product_ids,
)
from resolvers.zoho.options import ZohoOptions
from resolvers.zoho.wire import PER_PAGE_MAX, Record, ZohoWire
from resolvers.zoho.writes import ZohoOrderWrites


class ZohoCRM(ZohoOrderWrites):
    """Reads and writes Zoho CRM accounts, orders and products as canonical records.

    The writes (the order saga's `upsert_order`, `set_order_status`) are in
    `resolvers.zoho.writes`.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | Transport,
        options: ZohoOptions,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self.options = options
        requester = Requester(
            client,
            system="crm",
            label="Zoho CRM",
            timeouts=options.timeouts,
            retry=options.retry,
            protection=options.protection,
            sleep=sleep,
            clock=clock,
        )
        self.requester = requester
        self.auth = ZohoTokenSource(
            requester,
            accounts_url=options.accounts_url,
            client_id=options.client_id,
            client_secret=options.client_secret,
            refresh_token=options.refresh_token,
            api_domain=options.api_domain,
        )
        self.wire = ZohoWire(requester, self.auth)
        extra_account = options.credit_limit_field
        extra_order = options.external_ref_field
        self._account_fields = ACCOUNT_FIELDS + (f",{extra_account}" if extra_account else "")
        self._order_fields = ORDER_FIELDS + (f",{extra_order}" if extra_order else "")
        full = tuple(self._order_fields.split(","))
        self._order_table = ColumnTable(full=full, base=ORDER_BASE, columns=ORDER_COLUMNS)

    def _order_columns(self, wanted: Wanted) -> str:
        """The `fields=` of an order read that must fill `wanted` (None: every field)."""
        return ",".join(self._order_table.select(wanted))

    # accounts

    async def get_accounts(
        self, ids: Sequence[str], *, with_email: bool = True
    ) -> dict[str, Customer]:
        """Accounts by id; `with_email=False` skips the Contacts search (email stays None)."""
        records = await self.wire.by_ids("Accounts", ids, self._account_fields)
        return await self._customers(records, with_email=with_email)

    async def list_accounts(
        self,
        *,
        first: int,
        after: str | None,
        search: str | None = None,
        modified_since: datetime | None = None,
    ) -> Page[Customer]:
        conditions = [condition("Account_Name", "equals", search)] if search else []
        conditions += since_conditions(modified_since)
        rows, cursor = await self._page("Accounts", self._account_fields, first, after, conditions)
        customers = await self._customers(rows)
        return Page(tuple(customers[str(r["id"])] for r in rows), cursor)

    async def _customers(
        self, records: Sequence[Record], *, with_email: bool = True
    ) -> dict[str, Customer]:
        ids = [str(r["id"]) for r in records]
        wire, fields = self.wire, CONTACT_FIELDS
        found = await wire.in_search("Contacts", "Account_Name", ids, fields) if with_email else []
        emails = primary_emails(found)
        return {
            str(r["id"]): to_customer(
                r,
                email=emails.get(str(r["id"])),
                currency=self.options.default_currency,
                credit_field=self.options.credit_limit_field,
            )
            for r in records
        }

    # orders

    async def get_orders(self, ids: Sequence[str], *, wanted: Wanted = None) -> dict[str, Order]:
        """Orders by id, with the fields `wanted` needs (resolvers.columns; None: all)."""
        fields = self._order_columns(wanted)
        return await self._orders(await self.wire.by_ids("Sales_Orders", ids, fields), fields)

    async def find_order(
        self, *, number: str | None = None, external_ref: str | None = None
    ) -> Order | None:
        if number is not None:
            key, value = "SO_Number", number
        elif external_ref is not None and self.options.external_ref_field:
            key, value = self.options.external_ref_field, external_ref
        else:
            raise InvalidInput("Give an order number or an external reference to find an order.")
        rows = await self.wire.search_all(
            "Sales_Orders", condition(key, "equals", value), self._order_fields
        )
        exact = [r for r in rows if r.get(key) == value]  # `equals` is a contains on text (§A.5)
        orders = await self._orders(exact[:1])
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
        conditions = status_conditions(status, self.options.order_statuses)
        if customer_id is not None:
            conditions.append(condition("Account_Name", "equals", customer_id))
        conditions += since_conditions(modified_since)
        fields = self._order_columns(wanted)
        rows, cursor = await self._page("Sales_Orders", fields, first, after, conditions)
        orders = await self._orders(rows, fields)
        return Page(tuple(orders[str(r["id"])] for r in rows), cursor)

    async def orders_by_accounts(
        self,
        account_ids: Sequence[str],
        *,
        status: OrderStatus | None = None,
        wanted: Wanted = None,
    ) -> dict[str, list[Order]]:
        statuses = status_conditions(status, self.options.order_statuses)
        # the account is what the orders are grouped by, whatever the caller needs
        fields = self._order_columns(None if wanted is None else wanted | {"customer_id"})
        rows = await self.wire.in_search(
            "Sales_Orders",
            "Account_Name",
            account_ids,
            fields,
            extra=all_of(statuses) if statuses else None,
        )
        result: dict[str, list[Order]] = {account: [] for account in account_ids}
        for order in (await self._orders(rows, fields)).values():
            if order.customer_id in result:
                result[order.customer_id].append(order)
        return result

    async def _orders(
        self, records: Sequence[Record], fields: str | None = None
    ) -> dict[str, Order]:
        if fields is not None and fields != self._order_fields:
            records = await self._completed(records, frozenset(fields.split(",")))
        missing = [pid for r in records for pid in unresolved_product_ids(r)]
        products = await self.get_products(missing) if missing else {}
        skus = {pid: p.sku for pid, p in products.items()}
        options = self.options
        return {
            str(r["id"]): to_order(
                r, statuses=options.order_statuses, currency=options.default_currency, skus=skus
            )
            for r in records
        }

    async def _completed(self, records: Sequence[Record], asked: frozenset[str]) -> list[Record]:
        """`records` of a narrowed read, those whose totals must be derived from fields it did
        not ask for read again in full (one call; Zoho normally sends its totals)."""
        again = [str(r["id"]) for r in records if lacks_inputs(r, asked)]
        if not again:
            return list(records)
        full = {
            str(r["id"]): r
            for r in await self.wire.by_ids("Sales_Orders", again, self._order_fields)
        }
        return [full.get(str(r["id"]), r) for r in records]

    # products

    async def get_products(self, ids: Sequence[str]) -> dict[str, CatalogProduct]:
        records = await self.wire.by_ids("Products", ids, PRODUCT_FIELDS)
        return {str(r["id"]): self._product(r) for r in records}

    async def products_by_sku(self, skus: Sequence[str]) -> dict[str, CatalogProduct]:
        rows = await self.wire.in_search("Products", "Product_Code", skus, PRODUCT_FIELDS)
        wanted = set(skus)
        products = (self._product(r) for r in rows)
        return {p.sku: p for p in products if p.sku in wanted}  # `in` is fuzzy on text

    async def list_products(self, *, first: int, after: str | None) -> Page[CatalogProduct]:
        rows, cursor = await self._page("Products", PRODUCT_FIELDS, first, after, [])
        return Page(tuple(self._product(r) for r in rows), cursor)

    def _product(self, record: Record) -> CatalogProduct:
        return to_product(record, currency=self.options.default_currency)

    async def ping(self) -> None:
        await self.wire.call("GET", "/Accounts", params={"fields": "Account_Name", "per_page": "1"})

    # paging

    async def _page(
        self, module: str, fields: str, first: int, after: str | None, conditions: list[str]
    ) -> tuple[list[Record], str | None]:
        if first < 1:
            raise InvalidInput(f"first must be at least 1 (got {first})")
        criteria = all_of(conditions) if conditions else None
        return await self.wire.page(
            module, fields, first=min(first, PER_PAGE_MAX), after=after, criteria=criteria
        )
