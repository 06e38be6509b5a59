"""The Query root: the entry points a frontend team starts from (DESIGN.md, "Canonical model")."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers import records
from resolvers.errors import InvalidInput
from schema.columns import order_wanted, shipment_wanted
from schema.connections import Announce, Connection, connection_window, paginate
from schema.context import ExportContext, Info
from schema.enums import OrderStatus, ShipmentStatus
from schema.fields import resolver
from schema.ops_insights import OpsInsightsQuery
from schema.order_mutations import OrderMutations, OrderProcessQuery
from schema.orders import Customer, Order, Shipment, load_customer, load_order, load_shipment
from schema.products import Product, Warehouse, load_product, product_of
from schema.reconcile import ReconciliationMutations, ReconciliationQuery
from schema.selection import operation_reads
from schema.sync import SyncMutations, SyncStatus, sync_status_field


@strawberry.type(description="Who is asking, as the gateway verified it.")
class Viewer:
    subject: str | None = strawberry.field(description="The token subject; null when anonymous.")
    roles: list[str] = strawberry.field(description="Roles granted by the token.")
    scopes: list[str] = strawberry.field(description="Effective scopes (token and roles).")
    partner_id: str | None = strawberry.field(description="The partner the caller acts for.")


def root_page_listener(info: Info) -> Announce | None:
    """The context's listener for this root connection's page, if one listens."""
    context = info.context
    listener = context.page_listener if isinstance(context, ExportContext) else None
    if listener is None:
        return None
    key = str(info.path.key)  # the response key: a view names its connection by it
    return lambda more, cursor: listener(key, more, cursor)


@strawberry.type(description="Read entry points over the CRM and the SCM.")
class Query(ReconciliationQuery, OpsInsightsQuery):
    @resolver("One customer by CRM account id.")
    async def customer(self, info: Info, id: strawberry.ID) -> Customer | None:
        return await load_customer(info, str(id))

    @resolver(
        "Customers, optionally matching a search word; `updatedSince`: changed at or after it "
        "(both pushed to the CRM)."
    )
    async def customers(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        search: str | None = None,
        updated_since: datetime | None = None,
    ) -> Connection[Customer] | None:
        crm, loaders = info.context.crm, info.context.loaders

        async def fetch(size: int, source: str | None) -> records.Page[records.Customer]:
            page = await crm.list_accounts(
                first=size, after=source, search=search, modified_since=updated_since
            )
            for account in page.items:
                loaders.customers.prime(account.id, account)
            return page

        win = connection_window(
            info, "Query.customers", first, after, search=search, updatedSince=updated_since
        )
        return await paginate(win, fetch, Customer.of, announce=root_page_listener(info))

    @resolver("One order by CRM id or by order number (give exactly one).")
    async def order(
        self, info: Info, id: strawberry.ID | None = None, number: str | None = None
    ) -> Order | None:
        if (id is None) == (number is None):
            raise InvalidInput("order needs exactly one of id or number.", argument="id")
        if id is not None:
            return await load_order(info, str(id))
        found = await info.context.crm.find_order(number=number)
        return None if found is None else Order.of(found)

    @resolver(
        "Orders, filtered by status, customer and `updatedSince` (changed at or after) "
        "in the CRM query."
    )
    async def orders(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        status: OrderStatus | None = None,
        customer_id: strawberry.ID | None = None,
        updated_since: datetime | None = None,
    ) -> Connection[Order] | None:
        crm, wanted = info.context.crm, order_wanted(info)
        known = info.context.loaders.orders_for(wanted)
        customer = None if customer_id is None else str(customer_id)

        async def fetch(size: int, source: str | None) -> records.Page[records.Order]:
            page = await crm.list_orders(
                first=size,
                after=source,
                status=status,
                customer_id=customer,
                modified_since=updated_since,
                wanted=wanted,
            )
            for order in page.items:
                known.prime(order.id, order)
            return page

        filters = {"status": status, "customerId": customer, "updatedSince": updated_since}
        win = connection_window(info, "Query.orders", first, after, **filters)
        return await paginate(win, fetch, Order.of, announce=root_page_listener(info))

    @resolver("One product by SKU.")
    async def product(self, info: Info, sku: strawberry.ID) -> Product | None:
        return await load_product(info, str(sku))

    @resolver("Products of the CRM catalog.")
    async def products(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Product] | None:
        crm, loaders = info.context.crm, info.context.loaders

        async def fetch(size: int, source: str | None) -> records.Page[records.CatalogProduct]:
            page = await crm.list_products(first=size, after=source)
            for catalog in page.items:
                loaders.catalog_by_sku.prime(catalog.sku, catalog)
            return page

        win = connection_window(info, "Query.products", first, after)
        return await paginate(win, fetch, product_of, announce=root_page_listener(info))

    @resolver("All warehouses (SCM).")
    async def warehouses(self, info: Info) -> list[Warehouse] | None:
        known = await info.context.loaders.warehouses()
        return [Warehouse.of(w) for w in known.values()]

    @resolver("One shipment by ERPNext name.")
    async def shipment(self, info: Info, id: strawberry.ID) -> Shipment | None:
        return await load_shipment(info, str(id))

    @resolver("Shipments, filtered by status and carrier in the SCM query.")
    async def shipments(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        status: ShipmentStatus | None = None,
        carrier: str | None = None,
        updated_since: datetime | None = None,
    ) -> Connection[Shipment] | None:
        loaders = info.context.loaders
        destination = operation_reads(info, "Shipment", "destination")  # the Address call
        wanted = shipment_wanted(info)

        async def fetch(size: int, source: str | None) -> records.Page[records.Shipment]:
            return await loaders.list_shipments(
                first=size,
                after=source,
                status=status,
                carrier=carrier,
                modified_since=updated_since,
                with_destination=destination,
                wanted=wanted,
            )

        filters = {"status": status, "carrier": carrier, "updatedSince": updated_since}
        win = connection_window(info, "Query.shipments", first, after, **filters)
        return await paginate(win, fetch, Shipment.of, announce=root_page_listener(info))

    sync_status: SyncStatus | None = sync_status_field

    @resolver("The caller, as authenticated.")
    def viewer(self, info: Info) -> Viewer:
        who = info.context.principal
        return Viewer(
            subject=who.subject,
            roles=sorted(who.roles),
            scopes=sorted(who.scopes),
            partner_id=who.partner_id,
        )


@strawberry.type(
    name="Query",
    description="Read entry points over the CRM and the SCM, and the order processes.",
)
class QueryWithOrderProcess(Query, OrderProcessQuery):
    """The Query root when the gateway runs the order process (adds `orderProcess`)."""


@strawberry.type(
    name="Mutation",
    description="Writes that run the order process across the CRM and the ERP.",
)
class Mutation(OrderMutations, ReconciliationMutations, SyncMutations):
    """The Mutation root: placeOrder, approveOrder, cancelOrder; repairFinding; retrySyncChange."""
