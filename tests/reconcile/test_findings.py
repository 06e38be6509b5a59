"""Reconciliation over the seeded emulations: the three documented mismatches are found,
with nothing else (no false positives); each category planted through an emulation's own
API is found with its evidence; calls grow with pages, not with rows."""

from __future__ import annotations

import httpx
import pytest

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from resolvers.erpnext import ERPNext
from resolvers.reconcile import Severity, reconcile
from resolvers.reconcile.repairs import repair
from resolvers.zoho import ZohoCRM
from tests.support.stack import ERP_URL

ERP_AUTH = {"Authorization": "token crossdock-demo:crossdock-demo-secret"}


async def test_the_seeded_mismatches_and_nothing_else(crm: ZohoCRM, scm: ERPNext) -> None:
    found = await reconcile(crm, scm)
    assert sorted((f.category, f.severity) for f in found) == [
        ("customer_without_account", Severity.WARNING),
        ("product_without_item", Severity.ERROR),
        ("shipment_for_cancelled_order", Severity.ERROR),
    ]
    by = {f.category: f for f in found}
    assert by["product_without_item"].values["sku"] == "SKU-00999"
    assert by["shipment_for_cancelled_order"].erp == {"shipment": "SHIPMENT-00001"}
    assert by["shipment_for_cancelled_order"].values["crm.status"] == "CANCELLED"
    lost = by["customer_without_account"]
    assert "Lost Horizon Imports Ltd" in lost.summary
    assert all(f.fix for f in found)


async def test_a_category_can_be_chosen_and_unknown_ones_are_named(
    crm: ZohoCRM, scm: ERPNext
) -> None:
    found = await reconcile(crm, scm, categories={"product_without_item"})
    assert [f.category for f in found] == ["product_without_item"]
    with pytest.raises(ValueError, match="unknown reconciliation categories \\['nope'\\]"):
        await reconcile(crm, scm, categories={"nope"})


async def test_an_erp_item_added_directly_is_found_without_a_crm_product(
    crm: ZohoCRM, scm: ERPNext, scm_emulator: ErpEmulator
) -> None:
    """The seeded stores are shared by the session's tests: the item is deleted again."""
    transport = httpx.ASGITransport(app=scm_emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=ERP_URL, headers=ERP_AUTH) as erp:
        item = {
            "item_code": "SKU-07777",
            "item_name": "Planted gadget",
            "stock_uom": "Nos",
            "item_group": "Products",
            "is_stock_item": 1,
        }
        created = await erp.post("/api/resource/Item", json=item)
        assert created.status_code == 200, created.text
        try:
            found = await reconcile(crm, scm, categories={"item_without_product"})
        finally:
            deleted = await erp.delete("/api/resource/Item/SKU-07777")
            assert deleted.status_code in (200, 202), deleted.text
    assert [(f.erp, f.values["sku"]) for f in found] == [({"item": "SKU-07777"}, "SKU-07777")]


async def test_calls_grow_with_pages_not_rows(
    crm: ZohoCRM, scm: ERPNext, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    await reconcile(crm, scm, categories={"product_without_item"})  # the OAuth token first
    crm_emulator.stats.reset()
    scm_emulator.stats.reset()
    await reconcile(crm, scm, categories={"shipment_for_cancelled_order"})
    shipments = scm_emulator.store.query("SELECT count(*) AS n FROM tabShipment", ())[0]["n"]
    pages = -(-shipments // 200)
    assert scm_emulator.stats.total <= 3 * pages + 2  # a page of shipments and its joins
    assert crm_emulator.stats.total <= pages * 2  # the orders of each page, ≤100 ids a call


async def test_a_product_without_item_is_repaired_once_and_a_dry_run_writes_nothing(
    crm: ZohoCRM, scm: ERPNext, scm_emulator: ErpEmulator
) -> None:
    """The seeded SKU-00999 gets its ERP item; the shared seeded store gets it deleted again."""
    (finding,) = await reconcile(crm, scm, categories={"product_without_item"})
    scm_emulator.stats.reset()
    dry = await repair(finding, crm, scm, apply=False)
    assert dry.outcome == "would create"
    assert not any(route.startswith("POST") for route in scm_emulator.stats.snapshot()["routes"])
    transport = httpx.ASGITransport(app=scm_emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=ERP_URL, headers=ERP_AUTH) as erp:
        try:
            done = await repair(finding, crm, scm, apply=True)
            again = await repair(finding, crm, scm, apply=True)
            remaining = await reconcile(crm, scm, categories={"product_without_item"})
            item = (await erp.get("/api/resource/Item/SKU-00999")).json()["data"]
        finally:
            await erp.delete("/api/resource/Item/SKU-00999")
    assert done.outcome == "created"
    assert again.outcome == "already fixed"  # read again first: never written twice
    assert remaining == []
    assert item["item_code"] == "SKU-00999"
    assert item["item_group"] == "Products"


async def test_findings_crossdock_cannot_repair_say_who_must_act(
    crm: ZohoCRM, scm: ERPNext
) -> None:
    (finding,) = await reconcile(crm, scm, categories={"shipment_for_cancelled_order"})
    outcome = await repair(finding, crm, scm, apply=True)
    assert outcome.outcome == "not repairable"
    assert "logistics" in outcome.detail
