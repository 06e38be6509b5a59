"""Reading both systems for reconciliation: whole tables a page at a time, each page's
counterparts fetched in batches by key (as the graph's loaders batch), never a table in memory.

    async for accounts in pages(lambda after: crm.list_accounts(first=200, after=after)):
        customers = await scm.customers_by_crm_ids([a.id for a in accounts])

`order_bundles` turns a page of CRM orders into bundles with every mirror (and, when asked,
the shipments) in two to five calls whatever the page size.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from resolvers.ports import ErpPort
from resolvers.records import Order, Page

from .bundles import OrderBundle

T = TypeVar("T")


async def pages(fetch: Callable[[str | None], Awaitable[Page[T]]]) -> AsyncIterator[tuple[T, ...]]:
    """Every page of a listing, following its cursors until the last page."""
    after: str | None = None
    while True:
        page = await fetch(after)
        if page.items:
            yield page.items
        if page.next_cursor is None or not page.items:
            return
        after = page.next_cursor


async def order_bundles(
    scm: ErpPort,
    orders: Sequence[Order],
    *,
    with_lines: bool,
    with_shipments: bool,
) -> list[OrderBundle]:
    """Bundles for a batch of CRM orders: all their mirrors, and their shipments if asked."""
    ids = [o.id for o in orders]
    mirrors = await scm.mirrors_by_crm_ids(ids, with_lines=with_lines) if ids else {}
    shipments = None
    if with_shipments and ids:
        shipments = await scm.shipments_by_orders(ids, with_destination=False, with_lines=True)
    return [
        OrderBundle(
            order,
            tuple(mirrors.get(order.id, ())),
            None if shipments is None else tuple(shipments.get(order.id, ())),
        )
        for order in orders
    ]
