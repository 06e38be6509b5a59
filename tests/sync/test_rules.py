"""The sync rules end to end: a change made through one emulation's API, its notification put
into the inbox, the processor run, and the other system read back over its own API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from resolvers.records import OrderStatus
from resolvers.saga import ProcessStatus
from resolvers.saga.state import LineInput, OrderInput
from resolvers.sync.rules import BELOW_REORDER_LEVEL, RuleSettings
from resolvers.sync.rules.settings import ShipmentRule, StockRule
from tests.support.saga import Systems
from tests.sync.conftest import SyncRig

ADDRESS = {
    "Billing_Street": "Unter den Linden 1",
    "Billing_City": "Berlin",
    "Billing_Code": "10117",
    "Billing_Country": "Germany",
    "Shipping_Street": "Hafenstrasse 9",
    "Shipping_City": "Hamburg",
    "Shipping_Country": "Germany",
}


async def erp_addresses(systems: Systems, customer: str) -> list[dict[str, Any]]:
    links = [["Dynamic Link", "link_name", "=", customer]]
    fields = ("name", "address_type", "address_line1", "city", "pincode", "country")
    return await systems.scm.wire.list_all("Address", fields, links)


async def erp_customers(systems: Systems, account_id: str) -> list[dict[str, Any]]:
    filters = [["custom_crm_account_id", "=", account_id]]
    return await systems.scm.wire.list_all("Customer", ("name", "customer_name"), filters)


def order(customer: str, *lines: tuple[str, str]) -> OrderInput:
    return OrderInput(customer, tuple(LineInput(s, Decimal(q)) for s, q in lines))


async def test_an_account_edited_in_the_crm_changes_its_erp_customer(
    systems: Systems, sync: SyncRig
) -> None:
    account = systems.accounts["northwind"]
    await sync.crm_put("Accounts", account, {"Account_Name": "Northwind GmbH", **ADDRESS})
    await sync.notify("crm", "account", account)
    await sync.processor.drain()

    [customer] = await erp_customers(systems, account)
    assert customer["customer_name"] == "Northwind GmbH"
    found = {a["address_type"]: a for a in await erp_addresses(systems, customer["name"])}
    assert found["Billing"]["city"] == "Berlin"
    assert found["Billing"]["pincode"] == "10117"
    assert found["Billing"]["country"] == "Germany"  # Frappe's Country name, from ISO DE
    # Fxiaoke has one address per account: it is both the billing and the shipping one
    shipping = "Unter den Linden 1" if sync.fxiaoke else "Hafenstrasse 9"
    assert found["Shipping"]["address_line1"] == shipping

    await sync.crm_put("Accounts", account, {"Billing_City": "Potsdam"})
    await sync.notify("crm", "account", account)
    await sync.processor.drain()
    after = {a["address_type"]: a for a in await erp_addresses(systems, customer["name"])}
    assert after["Billing"]["city"] == "Potsdam"
    assert after["Billing"]["name"] == found["Billing"]["name"]  # updated, not added
    assert len(await erp_customers(systems, account)) == 1


async def test_a_product_edited_in_the_crm_changes_its_erp_item(
    systems: Systems, sync: SyncRig
) -> None:
    product = (await systems.crm.products_by_sku(["SKU-A"]))["SKU-A"]
    edit = {"Product_Name": "Anvil XL", "Description": "Heavy", "Product_Active": False}
    await sync.crm_put("Products", product.id, edit)
    await sync.notify("crm", "product", product.id)
    await sync.processor.drain()
    item = (await systems.scm.get_items(["SKU-A"]))["SKU-A"]
    assert (item.name, item.description, item.disabled) == ("Anvil XL", "Heavy", True)


async def test_an_erp_item_without_crm_product_is_reported_and_kept(
    systems: Systems, sync: SyncRig
) -> None:
    await sync.erp_put("Item", "SKU-OFF", {"description": "touched"})
    product_id = (await systems.crm.products_by_sku(["SKU-OFF"]))["SKU-OFF"].id
    await sync.crm_delete("Products", product_id)  # through the CRM's API
    await sync.notify("erp", "item", "SKU-OFF")
    await sync.notify("crm", "product", product_id)
    await sync.processor.drain()
    assert "SKU-OFF" in await systems.scm.get_items(["SKU-OFF"])
    notes = await done_notes(sync)
    assert any("ERP item SKU-OFF has no CRM product; it is not deleted" in n for n in notes)
    assert any(f"CRM product {product_id} is gone; its ERP item is kept" in n for n in notes)


async def test_a_shipment_delivered_in_the_erp_makes_the_crm_order_delivered(
    systems: Systems, sync: SyncRig
) -> None:
    placed = await sync.service.place_order(
        order(systems.accounts["northwind"], ("SKU-A", "1")), "k1"
    )
    assert placed.order is not None
    crm_id = placed.order.id
    shipment = add_shipment(systems, crm_id)
    await sync.erp_put("Shipment", shipment, {"tracking_status": "Delivered"})
    await sync.notify("erp", "shipment", shipment)
    await sync.processor.drain()
    current = (await systems.crm.get_orders([crm_id]))[crm_id]
    assert current.status is OrderStatus.DELIVERED


async def test_the_shipped_status_follows_the_tenants_picklist_and_waits_for_every_shipment(
    systems: Systems, sync: SyncRig
) -> None:
    sync.settings = RuleSettings(
        shipment_to_order_status=ShipmentRule(shipped_status="Created")  # a picklist value
    )
    sync.processor = sync.open()
    placed = await sync.service.place_order(
        order(systems.accounts["northwind"], ("SKU-A", "1")), "k1"
    )
    assert placed.order is not None
    crm_id = placed.order.id
    first, second = add_shipment(systems, crm_id), add_shipment(systems, crm_id, "SHIP-T2")
    await sync.erp_put("Shipment", first, {"tracking_status": "Delivered"})
    await sync.notify("erp", "shipment", first)
    await sync.processor.drain()
    current = (await systems.crm.get_orders([crm_id]))[crm_id]
    assert current.status is OrderStatus.CREATED  # one of two delivered: shipped
    writes = sync.writes()
    await sync.notify("erp", "shipment", second)  # nothing new: no second write
    await sync.processor.drain()
    assert sync.writes() == writes


async def test_an_order_cancelled_in_the_crm_releases_its_reservation(
    systems: Systems, sync: SyncRig
) -> None:
    before = await systems.reserved()
    placed = await sync.service.place_order(
        order(systems.accounts["northwind"], ("SKU-A", "2")), "k1"
    )
    assert placed.status is ProcessStatus.APPROVED
    assert placed.order is not None
    assert (await systems.reserved())[("SKU-A", "Stores - AC")] == before[
        ("SKU-A", "Stores - AC")
    ] + 2

    await sync.crm_put("Sales_Orders", placed.order.id, {"Status": "Cancelled"})
    await sync.notify("crm", "order", placed.order.id)
    await sync.processor.drain()

    assert await systems.reserved() == before
    [mirror] = await systems.scm.mirrors_of(placed.order.id)
    assert mirror.docstatus == 2
    view = await sync.service.get_process(placed.process_id)
    assert view is not None
    assert view.status is ProcessStatus.CANCELLED
    assert await systems.violations() == []


async def test_an_order_approved_in_the_crm_gets_its_mirror_and_reservation(
    systems: Systems, sync: SyncRig
) -> None:
    placed = await sync.service.place_order(order(systems.accounts["tiny"], ("SKU-A", "2")), "k1")
    assert placed.status is ProcessStatus.PENDING_APPROVAL  # over Tiny Shop's credit
    assert placed.order is not None
    assert await systems.scm.mirrors_of(placed.order.id) == []

    await sync.crm_put("Sales_Orders", placed.order.id, {"Status": "Approved"})
    await sync.notify("crm", "order", placed.order.id)
    await sync.processor.drain()

    [mirror] = await systems.scm.mirrors_of(placed.order.id)
    assert mirror.docstatus == 1
    view = await sync.service.get_process(placed.process_id)
    assert view is not None
    assert view.status is ProcessStatus.APPROVED
    assert await systems.violations() == []


async def test_stock_below_its_reorder_level_is_an_event_and_no_write(
    systems: Systems, sync: SyncRig
) -> None:
    sync.settings = RuleSettings(stock_below_reorder=StockRule(levels={"SKU-B": Decimal(5)}))
    sync.processor = sync.open()
    writes = sync.writes()
    async with sync.bus.subscribe() as events:
        await sync.notify("erp", "stock", "SKU-B@Stores - AC")  # 3 available, level 5
        await sync.notify("erp", "stock", "SKU-A@Stores - AC")  # 55 available, no level
        await sync.processor.drain()
        sync.bus.close()
        seen = {e.record_id: e.fields.get(BELOW_REORDER_LEVEL) async for e in events}
    assert seen == {"SKU-B@Stores - AC": True, "SKU-A@Stores - AC": False}
    assert sync.writes() == writes


async def test_erpnexts_own_reorder_level_decides_for_its_warehouse(
    systems: Systems, sync: SyncRig
) -> None:
    """Without an operator's level, the Item Reorder row of the changed Bin's warehouse decides,
    by ERPNext's rule (projected at or below the level): the verdict the graph's
    StockLevel.belowReorderLevel gives."""
    bins = await systems.scm.list_bins(["SKU-A", "SKU-B"])
    projected = {
        sku: next(b.projected for b in found if b.warehouse_id == "Stores - AC")
        for sku, found in bins.items()
    }
    levels = {"SKU-A": projected["SKU-A"], "SKU-B": projected["SKU-B"] - 1}  # at; just under
    for sku, level in levels.items():
        row = {"warehouse": "Stores - AC", "warehouse_reorder_level": float(level)}
        await sync.erp_put("Item", sku, {"reorder_levels": [row | {"warehouse_reorder_qty": 10}]})
    writes = sync.writes()
    async with sync.bus.subscribe() as events:
        await sync.notify("erp", "stock", "SKU-A@Stores - AC")
        await sync.notify("erp", "stock", "SKU-B@Stores - AC")
        await sync.processor.drain()
        sync.bus.close()
        seen = {e.record_id: e.fields.get(BELOW_REORDER_LEVEL) async for e in events}
    assert seen == {"SKU-A@Stores - AC": True, "SKU-B@Stores - AC": False}
    assert sync.writes() == writes  # an event, no write


async def test_duplicated_and_reordered_changes_are_applied_once(
    systems: Systems, sync: SyncRig
) -> None:
    account = systems.accounts["northwind"]
    await sync.crm_put("Accounts", account, ADDRESS)
    version = (await systems.crm.get_accounts([account]))[account].updated_at
    await sync.notify("crm", "account", account, version)
    await sync.notify("crm", "account", account, version - timedelta(minutes=5))  # older, late
    assert await sync.notify("crm", "account", account, version) is False  # delivered twice
    before = sync.writes()
    await sync.processor.drain()
    first_pass = sync.writes() - before
    assert first_pass == 3  # the customer and its two addresses
    for _ in range(2):
        await sync.notify("crm", "account", account)  # unversioned repeats
        await sync.processor.drain()
    assert sync.writes() - before == first_pass
    assert len(await erp_customers(systems, account)) == 1


async def test_a_sync_write_coming_back_triggers_no_second_write(
    systems: Systems, sync: SyncRig
) -> None:
    placed = await sync.service.place_order(
        order(systems.accounts["northwind"], ("SKU-A", "1")), "k1"
    )
    assert placed.order is not None
    shipment = add_shipment(systems, placed.order.id)
    await sync.erp_put("Shipment", shipment, {"tracking_status": "Delivered"})
    await sync.notify("erp", "shipment", shipment)
    await sync.processor.drain()
    writes = sync.writes()
    # The CRM reports the status write the rule made (Zoho's callback, Fxiaoke's poll): it
    # is recognised and bounces nowhere.
    await sync.notify("crm", "order", placed.order.id)
    await sync.processor.drain()
    assert sync.writes() == writes
    [done] = [i for i in await done_notes(sync) if "own write" in i]
    assert done


async def test_a_change_whose_processor_died_is_applied_once_after_restart(
    systems: Systems, sync: SyncRig
) -> None:
    account = systems.accounts["northwind"]
    await sync.crm_put("Accounts", account, ADDRESS)
    await sync.notify("crm", "account", account)
    before = sync.writes()

    def crash(stage: str, change: object) -> None:
        if stage == "applied":
            raise Killed

    dying = sync.open(hook=crash, owner="dying")
    with pytest.raises(Killed):
        await dying.drain()
    written = sync.writes() - before
    assert written == 3  # written, but never marked done
    dying.inbox.close()

    sync.clock.now += 31  # the dead processor's lease runs out
    restarted = sync.open(owner="restarted")
    assert await restarted.drain() == 1
    assert sync.writes() - before == written  # nothing written twice
    [customer] = await erp_customers(systems, account)
    assert len(await erp_addresses(systems, customer["name"])) == 2


async def test_a_failing_rule_retries_with_backoff_then_is_parked_with_its_reason(
    systems: Systems, sync: SyncRig
) -> None:
    account = systems.accounts["northwind"]
    systems.scm_faults.add("POST", r"/api/resource/Customer", "reject")
    await sync.notify("crm", "account", account)
    for _ in range(5):
        await sync.processor.drain()
        sync.clock.now += 3600
    status = await sync.processor.inbox.status()
    [failed] = status.failed
    assert failed.state == "dead"
    assert "ERPNext returned 400" in failed.reason
    systems.scm_faults.clear()
    assert await sync.processor.inbox.retry(failed.id) == 1
    await sync.processor.drain()
    assert len(await erp_customers(systems, account)) == 1
    assert (await sync.processor.inbox.status()).failed == ()


class Killed(BaseException):
    """The processor's process dies (a BaseException, like SystemExit)."""


async def done_notes(sync: SyncRig) -> list[str]:
    rows = sync.processor.inbox.store._db.execute(
        "SELECT reason FROM sync_inbox WHERE state = 'done'"
    )  # type: ignore[attr-defined]
    return [str(r[0]) for r in rows]


def add_shipment(systems: Systems, crm_order_id: str, name: str = "SHIP-T1") -> str:
    """A booked, submitted Shipment of the order, in transit (loaded as fixture data)."""
    shipment = {
        "name": name,
        "docstatus": 1,
        "status": "Booked",
        "tracking_status": "In Progress",
        "carrier": "DHL",
        "awb_number": f"AWB-{name}",
        "custom_crm_order_id": crm_order_id,
        "pickup_address_name": "Stores-Warehouse",
        "delivery_address_name": "Customer-Shipping",
        "pickup_date": "2026-01-01",
        "description_of_content": "Goods",
        "value_of_goods": 100.0,
    }
    systems.erp.store.insert("Shipment", [shipment])
    return name


async def test_a_second_edit_within_the_same_second_reaches_subscribers(
    systems: Systems, sync: SyncRig
) -> None:
    """Zoho's versions are whole seconds: a second edit in the same second has the version
    already applied. Its rules still write what differs, and subscribers hear it; a repeated
    hint of the same version writes nothing and is not announced again."""
    clock = systems.zoho.store.clock
    frozen = clock.now_ms()
    clock.now_ms = lambda: frozen  # both edits stamped with the same second
    account = systems.accounts["northwind"]
    async with sync.bus.subscribe() as events:
        await sync.crm_put("Accounts", account, {"Billing_City": "Berlin", **ADDRESS})
        await sync.notify("crm", "account", account)
        await sync.processor.drain()
        await sync.crm_put("Accounts", account, {"Billing_City": "Potsdam"})
        await sync.notify("crm", "account", account)
        await sync.processor.drain()
        await sync.notify("crm", "account", account)  # the same hint again
        await sync.processor.drain()
        sync.bus.close()
        seen = [e.record_id async for e in events]
    assert seen == [account, account]
    [customer] = await erp_customers(systems, account)
    cities = {a["address_type"]: a["city"] for a in await erp_addresses(systems, customer["name"])}
    assert cities["Billing"] == "Potsdam"
