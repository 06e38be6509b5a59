"""An export's pages share their reference data (customers, products, stock, warehouses):
read once per export, not once per page; orders and shipments stay per page."""

from __future__ import annotations

import gc
import weakref
from dataclasses import replace

import pytest
from starlette.applications import Starlette

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from gateway.views import ViewCatalog, load_views
from resolvers.erpnext import ERPNext
from resolvers.loaders import Loaders
from resolvers.zoho import ZohoCRM
from schema.context import GatewayContext
from tests.support.views import ViewsClient, token

PAGE = 50  # orders per page: the 300 seeded orders make 6 pages


@pytest.fixture(scope="module")
def catalog() -> ViewCatalog:
    shipped = load_views(None)
    views = {**shipped.views, "order_lines": replace(shipped.views["order_lines"], page_size=PAGE)}
    return replace(shipped, views=views)


def _calls(emulator: ZohoEmulator | ErpEmulator, suffix: str) -> int:
    return sum(n for route, n in emulator.stats.routes.items() if route.endswith(suffix))


async def test_customers_products_and_stock_are_read_once_per_export_not_once_per_page(
    views: ViewsClient,
    views_app: Starlette,
    crm_emulator: ZohoEmulator,
    scm_emulator: ErpEmulator,
) -> None:
    response = await views.get("/views/order_lines.csv", bearer=token("admin"))
    assert response.status_code == 200
    pages = _calls(crm_emulator, "/Sales_Orders")
    assert pages == 6
    # the 30 accounts and 11 products are all met on the first pages; later pages ask
    # only for the few they have not seen yet (none, most of the time)
    assert _calls(crm_emulator, "/Accounts") < pages
    assert _calls(crm_emulator, "/Products/search") < pages
    assert _calls(scm_emulator, "/Bin") < pages


async def test_a_shared_cache_past_its_limit_is_not_shared(crm: ZohoCRM, scm: ERPNext) -> None:
    first = Loaders(crm, scm, row_filters={})
    await first.catalog_by_sku.load_many(["SKU-00001", "SKU-00002", "SKU-00003"])
    await first.accounts.load_many([])
    later = Loaders(crm, scm, row_filters={})
    later.share_dimensions(first, limit=2)
    assert later.catalog_by_sku is not first.catalog_by_sku  # 3 keys > 2: a fresh cache
    assert later.accounts is first.accounts
    assert len(first.catalog_by_sku) == 3


async def test_a_pages_loaders_are_freed_when_the_page_ends_without_a_collection(
    crm: ZohoCRM, scm: ERPNext
) -> None:
    gc.disable()
    try:
        context = GatewayContext(crm=crm, scm=scm)
        await context.loaders.catalog_by_sku.load_many(["SKU-00001", "SKU-00002"])
        gone = weakref.ref(context.loaders)
        del context
        assert gone() is None  # no reference cycle: freed by reference counting alone
    finally:
        gc.enable()
