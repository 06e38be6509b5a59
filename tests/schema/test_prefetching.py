"""The order page starts its SCM joins with the order itself, and stock with the catalog."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.support.stack import GraphQLClient

ORDER_PAGE = """query Page($id: ID!) { order(id: $id) {
  number lines { product { name stock { onHand warehouse { name } } } }
  shipments { id } fulfillment } }"""


class Timeline:
    """Spies that log when real connector calls start and end, adding a little latency
    (in-process backends answer without ever yielding to the event loop)."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def spy(self, name: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            self.events.append(f"{name}:start")
            await asyncio.sleep(0.005)
            try:
                return await method(*args, **kwargs)
            finally:
                self.events.append(f"{name}:end")

        return call


async def first_order_id(gql: GraphQLClient) -> str:
    data = await gql.data("{ orders(first: 1) { nodes { id } } }")
    return str(data["orders"]["nodes"][0]["id"])


async def test_the_order_page_asks_for_shipments_and_mirror_before_the_order_arrives(
    gql: GraphQLClient, crm: ZohoCRM, scm: ERPNext
) -> None:
    order_id = await first_order_id(gql)
    line = Timeline()
    crm.get_orders = line.spy("orders", crm.get_orders)  # type: ignore[method-assign]
    scm.shipments_by_orders = line.spy("shipments", scm.shipments_by_orders)  # type: ignore[method-assign]
    scm.erp_orders_by_crm_ids = line.spy("mirrors", scm.erp_orders_by_crm_ids)  # type: ignore[method-assign]
    data = await gql.data(ORDER_PAGE, id=order_id)
    assert data["order"]["number"]
    done = line.events.index("orders:end")
    assert line.events.index("shipments:start") < done
    assert line.events.index("mirrors:start") < done


async def test_stock_and_warehouses_load_alongside_the_catalog(
    gql: GraphQLClient, crm: ZohoCRM, scm: ERPNext
) -> None:
    order_id = await first_order_id(gql)
    line = Timeline()
    crm.products_by_sku = line.spy("catalog", crm.products_by_sku)  # type: ignore[method-assign]
    scm.list_bins = line.spy("bins", scm.list_bins)  # type: ignore[method-assign]
    scm.list_warehouses = line.spy("warehouses", scm.list_warehouses)  # type: ignore[method-assign]
    data = await gql.data(ORDER_PAGE, id=order_id)
    assert data["order"]["lines"][0]["product"]["stock"] is not None
    done = line.events.index("catalog:end")
    assert line.events.index("bins:start") < done
    assert line.events.index("warehouses:start") < done


async def test_nothing_is_prefetched_for_fields_the_page_does_not_select(
    gql: GraphQLClient, crm: ZohoCRM, scm: ERPNext
) -> None:
    order_id = await first_order_id(gql)
    line = Timeline()
    scm.shipments_by_orders = line.spy("shipments", scm.shipments_by_orders)  # type: ignore[method-assign]
    scm.list_bins = line.spy("bins", scm.list_bins)  # type: ignore[method-assign]
    await gql.data(
        "query P($id: ID!) { order(id: $id) { lines { product { name } } } }", id=order_id
    )
    assert line.events == []
