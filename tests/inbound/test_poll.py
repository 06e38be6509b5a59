"""The catch-up poll: with every notification lost, polling alone still finds the changes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gateway.inbound.poll import Poller
from gateway.inbound.service import open_inbound
from resolvers.erpnext import ERPNext
from resolvers.errors import BackendUnavailable
from resolvers.sync.watermarks import Watermarks
from resolvers.zoho import ZohoCRM
from tests.inbound.conftest import SpySink, Stack, asgi_client, inbound_settings
from tests.support.stack import ERP_URL, ZOHO_URL, gateway_settings, no_sleep


def poller_of(stack: Stack) -> Poller:
    poller = stack.inbound.poller
    assert poller is not None
    return poller


async def make_changes(stack: Stack) -> dict[str, str]:
    """An account, a product, an item and a shipment changed through the backends' APIs."""
    crm, erp = stack.crm_api, stack.erp_api
    account = (await crm.get("/crm/v8/Accounts", params={"fields": "id"})).json()["data"][0]["id"]
    product = (await crm.get("/crm/v8/Products", params={"fields": "id"})).json()["data"][0]["id"]
    await crm.put(f"/crm/v8/Accounts/{account}", json={"data": [{"Phone": "+49 2"}]})
    await crm.put(f"/crm/v8/Products/{product}", json={"data": [{"Unit_Price": 9.5}]})
    item = (await erp.get("/api/resource/Item")).json()["data"][0]["name"]
    await erp.put(f"/api/resource/Item/{item}", json={"description": "polled"})
    shipments = await erp.get(
        "/api/resource/Shipment", params={"filters": '[["docstatus", "=", 1]]'}
    )
    shipment = shipments.json()["data"][0]["name"]
    await erp.put(f"/api/resource/Shipment/{shipment}", json={"tracking_status": "In Progress"})
    return {"account": account, "product": product, "item": item, "shipment": shipment}


async def test_with_every_notification_dropped_the_poll_finds_the_changes(stack: Stack) -> None:
    await stack.registered()
    for outbox in (stack.zoho.outbox, stack.erp.outbox):
        outbox.knobs.update({"drop_rate": 1.0})
    poller = poller_of(stack)
    assert sum((await poller.poll_once()).values()) == 0  # a new installation starts "now"
    changed = await make_changes(stack)
    await stack.delivered()
    assert stack.sink.changes == []  # every notification was lost
    await poller.poll_once()
    found = {(c.entity, c.record_id) for c in stack.sink.changes}
    assert {(entity, key) for entity, key in changed.items()} <= found
    assert {c.origin for c in stack.sink.changes} == {"poll"}
    assert all(c.version is not None for c in stack.sink.changes)
    assert stack.zoho.outbox.counts["dropped"] >= 2
    assert stack.erp.outbox.counts["dropped"] >= 2


async def test_watermarks_persist_and_only_move_forward(stack: Stack, tmp_path: Path) -> None:
    poller = poller_of(stack)
    await poller.poll_once()
    first = poller.watermarks.all()
    assert set(first) == {
        "crm:Accounts",
        "crm:Products",
        "crm:Sales_Orders",
        "erp:Bin",
        "erp:Customer",
        "erp:Item",
        "erp:Sales Order",
        "erp:Shipment",
    }
    await make_changes(stack)
    await poller.poll_once()
    second = poller.watermarks.all()
    assert all(second[source] >= first[source] for source in first)  # UTC ISO: text order
    assert second["erp:Item"] > first["erp:Item"]
    reopened = Watermarks(tmp_path / "watermarks.sqlite")
    assert reopened.all() == second
    reopened.close()


async def test_a_poll_from_the_beginning_reads_every_record_once(stack: Stack) -> None:
    poller = poller_of(stack)
    settings = dataclasses.replace(poller.settings, poll_from="beginning")
    sink = SpySink()
    fresh = Poller(
        settings,
        sink,
        Watermarks(":memory:"),
        zoho=poller.zoho,
        frappe=poller.frappe,
        site_tz=poller.site_tz,
    )
    counts = await fresh.poll_once()
    zoho, erp = stack.zoho.store, stack.erp.store
    assert counts["crm:Accounts"] == zoho.count("Accounts")
    assert counts["crm:Sales_Orders"] == zoho.count("Sales_Orders")
    assert counts["erp:Shipment"] == erp.count("Shipment")
    assert counts["erp:Bin"] == erp.count("Bin")
    stock = [c.record_id for c in sink.changes if c.entity == "stock"]
    assert all("@" in key for key in stock)


async def test_with_notifications_off_there_are_no_hooks_but_the_poll_runs(
    stack: Stack, tmp_path: Path
) -> None:
    off = inbound_settings(
        notifications=False, public_url="", watermarks_path=str(tmp_path / "off.sqlite")
    )
    settings = dataclasses.replace(gateway_settings(tmp_path), inbound=off)
    async with asgi_client(stack.zoho.app, ZOHO_URL) as z, asgi_client(stack.erp.app, ERP_URL) as e:
        crm = ZohoCRM(z, settings.crm, sleep=no_sleep)
        scm = ERPNext(e, settings.scm, sleep=no_sleep)
        inbound = open_inbound(settings, crm=crm, scm=scm, sink=SpySink())
        assert inbound is not None
        assert inbound.routes() == []
        assert inbound.registrar is None
        assert inbound.poller is not None
        counts = await inbound.poller.poll_once()
        await inbound.stop()
    assert set(counts) >= {"crm:Accounts", "erp:Bin"}


async def test_a_poll_that_cannot_reach_a_backend_keeps_the_watermark(stack: Stack) -> None:
    poller = poller_of(stack)
    await poller.poll_once()
    before = poller.watermarks.all()
    stack.zoho.controls.update({"down": True})
    with pytest.raises(BackendUnavailable):
        await poller.poll_once()
    stack.zoho.controls.update({"down": False})
    assert poller.watermarks.all() == before


async def test_with_a_third_dropped_repeated_and_reordered_every_change_is_heard(
    stack: Stack,
) -> None:
    await stack.registered()
    faults = {"drop_rate": 0.3, "duplicate_rate": 0.3, "reorder_rate": 0.3, "seed": 11}
    stack.zoho.outbox.knobs.update(faults)
    poller = poller_of(stack)
    await poller.poll_once()  # a new installation: watermarks start now
    crm = stack.crm_api
    listed = await crm.get("/crm/v8/Sales_Orders", params={"fields": "id", "per_page": 20})
    ids = [row["id"] for row in listed.json()["data"]]
    for record_id in ids:  # one callback each
        await crm.put(f"/crm/v8/Sales_Orders/{record_id}", json={"data": [{"Status": "Approved"}]})
    await stack.delivered()
    counts = stack.zoho.outbox.counts
    assert counts["dropped"] > 0
    assert counts["duplicated"] > 0
    assert counts["reordered"] > 0
    heard = {c.record_id for c in stack.sink.changes if c.entity == "order"}
    assert not set(ids) <= heard  # the notifications alone missed some
    await poller.poll_once()
    heard = {c.record_id for c in stack.sink.changes if c.entity == "order"}
    assert set(ids) <= heard  # after catch-up, every change was heard
