"""Incremental extraction: `updated_since` is pushed to the CRM, and the watermark of one
export, passed back, returns exactly the rows changed since (nothing is lost between runs)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from backends.erpnext.app import ErpEmulator
from backends.erpnext.store import ErpStore
from backends.seed import seed
from backends.zoho.app import ZohoEmulator
from backends.zoho.store import ZohoStore
from resolvers.zoho import ZohoCRM
from tests.support.stack import ERP_URL, SeededStores
from tests.support.views import ViewsClient, csv_rows, ndjson, token

ADMIN = token("admin")


@pytest.fixture
def seeded_stores(tmp_path: Path) -> SeededStores:
    """Stores of this test alone: it changes a record, the shared ones are read-only."""
    stores = SeededStores(ZohoStore(tmp_path / "zoho.sqlite3"), ErpStore(tmp_path / "erp.sqlite3"))
    seed(stores.zoho, stores.erp, scale=0.05, random_seed=11)
    return stores


async def test_the_watermark_returns_only_rows_changed_since_the_last_export(
    views: ViewsClient, crm: ZohoCRM, crm_emulator: ZohoEmulator
) -> None:
    full = await views.get("/views/order_lines.ndjson", bearer=ADMIN)
    rows = ndjson(full)
    watermark = full.headers["Crossdock-Watermark"]
    unchanged = await views.get("/views/order_lines.ndjson", bearer=ADMIN, updated_since=watermark)
    assert ndjson(unchanged) == []

    target = next(row for row in rows if row["status"] != "DELIVERED")
    order = await crm.find_order(number=target["order_number"])
    assert order is not None
    await crm.set_order_status(order.id, "Delivered")  # a PUT to the CRM's Records API

    crm_emulator.stats.reset()
    changed = await views.get("/views/order_lines.ndjson", bearer=ADMIN, updated_since=watermark)
    changed_rows = ndjson(changed)
    lines_before = [r for r in rows if r["order_number"] == target["order_number"]]
    assert [r["sku"] for r in changed_rows] == [r["sku"] for r in lines_before]
    assert {r["status"] for r in changed_rows} == {"DELIVERED"}
    searched = [r for r in crm_emulator.stats.routes if "Sales_Orders/search" in r]
    assert searched  # the criteria went to the CRM, not filtered in the gateway


async def test_updated_since_accepts_any_offset_and_works_for_csv(views: ViewsClient) -> None:
    future = "2999-01-01T01:00:00+01:00"
    response = await views.get("/views/order_lines.csv", bearer=ADMIN, updated_since=future)
    assert response.status_code == 200
    assert len(csv_rows(response)) == 1  # the header row alone
    since = "2000-01-01T00:00:00Z"
    past = await views.get("/views/order_lines.csv", bearer=ADMIN, updated_since=since)
    assert past.status_code == 200
    assert len(csv_rows(past)) > 1


async def test_the_shipments_view_is_incremental_through_erpnexts_modified_filter(
    views: ViewsClient, scm_emulator: ErpEmulator
) -> None:
    full = await views.get("/views/shipments.ndjson", bearer=ADMIN)
    rows = ndjson(full)
    watermark = full.headers["Crossdock-Watermark"]
    unchanged = await views.get("/views/shipments.ndjson", bearer=ADMIN, updated_since=watermark)
    assert ndjson(unchanged) == []

    target = rows[0]["shipment"]
    transport = httpx.ASGITransport(app=scm_emulator.app)
    auth = {"Authorization": "token crossdock-demo:crossdock-demo-secret"}
    async with httpx.AsyncClient(transport=transport, base_url=ERP_URL, headers=auth) as erp:
        before = (await erp.get(f"/api/resource/Shipment/{target}")).json()["data"]
        response = await erp.put(  # tracking fields may change after submit
            f"/api/resource/Shipment/{target}", json={"tracking_status": "Lost"}
        )
        assert response.status_code == 200, response.text
        try:
            scm_emulator.stats.reset()
            changed = await views.get(
                "/views/shipments.ndjson", bearer=ADMIN, updated_since=watermark
            )
        finally:  # the seeded stores are shared by the session: leave the shipment as found
            restore = {"tracking_status": before.get("tracking_status")}
            await erp.put(f"/api/resource/Shipment/{target}", json=restore)
    changed_rows = ndjson(changed)
    assert [(r["shipment"], r["status"]) for r in changed_rows] == [(target, "EXCEPTION")]
    assert scm_emulator.stats.routes["GET /api/resource/Shipment"] >= 1  # filtered at the source
