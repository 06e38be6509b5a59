"""The categories of disagreement, each a precise rule over both systems.

- `product_without_item` (error: it cannot be ordered): an active CRM product whose SKU has
  no ERP item.
- `item_without_product` (warning: sales cannot sell it): an enabled ERP item whose SKU has no
  CRM product.
- `customer_without_account` (warning): an ERP customer whose `custom_crm_account_id` names
  no CRM account.
- `shipment_for_cancelled_order` (error: goods leave for an order nobody wants): a shipment
  not cancelled whose CRM order is cancelled.
- `shipment_without_order` (error): a shipment not cancelled whose CRM order does not exist.

Each check pages through one system (`PAGE` rows per call) and looks the keys of each page up
in the other in one batched call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from typing import TypeVar

from resolvers.ports import CrmPort, ErpPort
from resolvers.reconcile.findings import Finding, Severity
from resolvers.records import OrderStatus, Page, ShipmentStatus

PAGE = 200
T = TypeVar("T")
Check = Callable[[CrmPort, ErpPort], AsyncIterator[Finding]]


async def pages(fetch: Callable[[str | None], Awaitable[Page[T]]]) -> AsyncIterator[list[T]]:
    """Every page of a paged listing, in order."""
    after: str | None = None
    while True:
        page = await fetch(after)
        yield list(page.items)
        if page.next_cursor is None:
            return
        after = page.next_cursor


async def products_without_items(crm: CrmPort, erp: ErpPort) -> AsyncIterator[Finding]:
    async for products in pages(lambda after: crm.list_products(first=PAGE, after=after)):
        active = [p for p in products if p.active]
        items = await erp.get_items([p.sku for p in active]) if active else {}
        for product in active:
            if product.sku not in items:
                yield Finding(
                    "product_without_item",
                    Severity.ERROR,
                    f"CRM product {product.sku} ({product.name}) is active but the ERP has no "
                    "item with that code: orders for it cannot be mirrored or reserved",
                    "create the ERP item (crossdock reconcile --fix product_without_item --apply "
                    "does), or deactivate the CRM product; catalog owners decide",
                    crm={"product": product.id},
                    values={"sku": product.sku, "crm.name": product.name},
                )


async def items_without_products(crm: CrmPort, erp: ErpPort) -> AsyncIterator[Finding]:
    async for items in pages(lambda after: erp.list_items(first=PAGE, after=after)):
        enabled = [i for i in items if not i.disabled]
        known = await crm.products_by_sku([i.sku for i in enabled]) if enabled else {}
        for item in enabled:
            if item.sku not in known:
                yield Finding(
                    "item_without_product",
                    Severity.WARNING,
                    f"ERP item {item.sku} ({item.name}) has no CRM product: sales cannot quote "
                    "or order it",
                    "add the product to the CRM catalog, or disable the ERP item; never "
                    "deleted automatically",
                    erp={"item": item.sku},
                    values={"sku": item.sku, "erp.name": item.name},
                )


async def customers_without_accounts(crm: CrmPort, erp: ErpPort) -> AsyncIterator[Finding]:
    async for customers in pages(lambda after: erp.list_customers(first=PAGE, after=after)):
        linked = [c for c in customers if c.crm_account_id]
        ids = [str(c.crm_account_id) for c in linked]
        accounts = await crm.get_accounts(ids, with_email=False) if ids else {}
        for customer in linked:
            if customer.crm_account_id not in accounts:
                yield Finding(
                    "customer_without_account",
                    Severity.WARNING,
                    f'ERP customer "{customer.customer_name}" points to CRM account '
                    f"{customer.crm_account_id}, which does not exist",
                    "find the account it should point to (it may have been merged or deleted "
                    "in the CRM) and correct custom_crm_account_id; sales operations decide",
                    erp={"customer": customer.name},
                    values={"custom_crm_account_id": customer.crm_account_id},
                )


async def shipments_against_orders(crm: CrmPort, erp: ErpPort) -> AsyncIterator[Finding]:
    """Submitted shipments whose CRM order is cancelled or missing."""
    listing = lambda after: erp.list_shipments(  # noqa: E731 - a one-line page fetcher
        first=PAGE, after=after, with_destination=False
    )
    async for shipments in pages(listing):
        live = [s for s in shipments if s.status != ShipmentStatus.CANCELLED and s.order_id]
        ids = list({str(s.order_id) for s in live})
        orders = await crm.get_orders(ids) if ids else {}
        for shipment in live:
            order = orders.get(str(shipment.order_id))
            if order is None:
                yield _orphan(shipment.id, str(shipment.order_id))
            elif order.status == OrderStatus.CANCELLED:
                yield Finding(
                    "shipment_for_cancelled_order",
                    Severity.ERROR,
                    f"ERP shipment {shipment.id} ({shipment.status.value}) delivers CRM order "
                    f"{order.number}, which is cancelled",
                    "logistics must stop or recall the shipment, or sales reopen the order; "
                    "Crossdock does not cancel a shipment on its own",
                    crm={"order": order.id},
                    erp={"shipment": shipment.id},
                    values={"crm.status": order.status.value, "erp.status": shipment.status.value},
                )


def _orphan(shipment_id: str, order_id: str) -> Finding:
    return Finding(
        "shipment_without_order",
        Severity.ERROR,
        f"ERP shipment {shipment_id} names CRM order {order_id}, which does not exist",
        "logistics must find the order the shipment belongs to and correct "
        "custom_crm_order_id, or stop the shipment",
        erp={"shipment": shipment_id},
        values={"custom_crm_order_id": order_id},
    )


CHECKS: Mapping[str, Check] = {
    "product_without_item": products_without_items,
    "item_without_product": items_without_products,
    "customer_without_account": customers_without_accounts,
    "shipments": shipments_against_orders,  # shipment_for_cancelled_order, _without_order
}
CATEGORIES = (
    "product_without_item",
    "item_without_product",
    "customer_without_account",
    "shipment_for_cancelled_order",
    "shipment_without_order",
)
_CHECK_OF = {
    "shipment_for_cancelled_order": "shipments",
    "shipment_without_order": "shipments",
}


async def reconcile(
    crm: CrmPort, erp: ErpPort, *, categories: Collection[str] | None = None
) -> list[Finding]:
    """Every finding of the chosen categories (all by default), in category order."""
    chosen = list(CATEGORIES) if categories is None else list(categories)
    unknown = sorted(set(chosen) - set(CATEGORIES))
    if unknown:
        raise ValueError(
            f"unknown reconciliation categories {unknown}; known: {', '.join(CATEGORIES)}"
        )
    checks = dict.fromkeys(_CHECK_OF.get(c, c) for c in chosen)
    found = [f for name in checks async for f in CHECKS[name](crm, erp)]
    wanted = set(chosen)
    return [f for f in found if f.category in wanted]
