"""Customer: a CRM account, with its orders as a connection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import records
from schema.common import Address, Money
from schema.connections import Connection, connection_window, from_list, paginate
from schema.context import Info
from schema.enums import OrderStatus
from schema.fields import resolver
from schema.selection import prefetches, selected_names

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # never shown: only `id` and `name` are selected

if TYPE_CHECKING:
    from schema.orders import Order

OrderRef = Annotated["Order", strawberry.lazy("schema.orders")]


@strawberry.type(description="A customer account from the CRM (Zoho CRM `Accounts`).")
class Customer:
    record: strawberry.Private[records.Customer]
    id: strawberry.ID = strawberry.field(description="The CRM account id.")
    number: str | None = strawberry.field(description="The account number, if the CRM has one.")
    name: str = strawberry.field(description="The account's name.")
    industry: str | None = strawberry.field(description="Industry, as the CRM names it.")
    website: str | None = strawberry.field(description="Website URL.")
    email: str | None = strawberry.field(description="Email of the primary contact. PII.")
    phone: str | None = strawberry.field(description="Main phone number. PII.")
    billing_address: Address | None = strawberry.field(description="Billing address. PII.")
    shipping_address: Address | None = strawberry.field(description="Shipping address. PII.")
    credit_limit: Money | None = strawberry.field(description="Credit limit. Finance.")
    created_at: datetime = strawberry.field(description="When the account was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")

    @classmethod
    def of(cls, r: records.Customer) -> Customer:
        return cls(
            record=r,
            id=strawberry.ID(r.id),
            number=r.number,
            name=r.name,
            industry=r.industry,
            website=r.website,
            email=r.email,
            phone=r.phone,
            billing_address=Address.of(r.billing_address),
            shipping_address=Address.of(r.shipping_address),
            credit_limit=Money.of(r.credit_limit),
            created_at=r.created_at,
            updated_at=r.updated_at,
        )

    @resolver("The customer's sales orders, newest first as the CRM lists.")
    async def orders(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        status: OrderStatus | None = None,
    ) -> Connection[OrderRef] | None:
        from schema.orders import Order

        ctx = info.context
        # a cursor resumes only this customer's listing, with the same status
        win = connection_window(
            info, "Customer.orders", first, after, id=self.record.id, status=status
        )
        if after is None:
            found = await ctx.loaders.orders_by_customer.load((self.record.id, status))
            return from_list(win, found or [], Order.of)

        async def fetch(size: int, source: str | None) -> records.Page[records.Order]:
            return await ctx.crm.list_orders(
                first=size, after=source, status=status, customer_id=self.record.id
            )

        return await paginate(win, fetch, Order.of)


# What a Zoho lookup (`Account_Name: {"name", "id"}`) answers without reading the account.
LOOKUP_FIELDS = frozenset({"id", "name", "__typename"})


def from_lookup(info: Info, customer_id: str, name: str | None) -> Customer | None:
    """The customer from a record's account lookup, when the query asks only `id` and `name`
    and no row rule binds customers; None when the account itself must be read."""
    if name is None or "Customer" in info.context.row_filters:
        return None
    if not selected_names(info) <= LOOKUP_FIELDS:
        return None
    return Customer.of(
        records.Customer(id=customer_id, name=name, created_at=EPOCH, updated_at=EPOCH)
    )


async def load_customer(info: Info, customer_id: str | None) -> Customer | None:
    """The customer by account id; the Contacts search runs only when `email` is selected."""
    if customer_id is None:
        return None
    found = (await load_customers(info, [customer_id]))[0]
    if isinstance(found, Exception):
        raise found
    return found


async def load_customers(info: Info, ids: list[str]) -> list[Customer | Exception | None]:
    """Customers by account id in one loader batch; a failed load fails its id alone."""
    loaders = info.context.loaders
    email = prefetches(info, ("Customer", "email"))
    loader = loaders.customers if email else loaders.accounts
    return [
        found if found is None or isinstance(found, Exception) else Customer.of(found)
        for found in await loader.load_each(ids)
    ]
