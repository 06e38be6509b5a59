"""The console's operations pages in Chromium: Sync (lag, dead letters, retry), Reconciliation
(stored run, findings, repair) and Stock's reorder levels, on a demo of their own.

What each page shows is compared with what the systems say, read over HTTP: the gateway's
inbox (`syncStatus`), ERPNext's REST API (Item, Item Reorder, Bin). A dead letter is made by
taking the ERP emulation down with its fault knob (`/_emulator/faults`) while a change is
applied; a repair clicked as admin is read back from ERPNext. Which roles get the pages (and
which do not) is `PAGES` in test_console_browser. Screenshots go to the same artifacts folder.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway.cli.demo import Demo
from resolvers.sync import Change
from tests.console.support import ERP_AUTH, WAIT_MS, Tab
from tests.console.test_console_browser import (
    erp_rows,
    gql,
    open_order,
    open_page,
    place_held_order,
    sign_in,
    wait_until,
    zoho_order_status,
)

pytestmark = [pytest.mark.browser, pytest.mark.sockets]

DemoLoop = tuple[Demo, asyncio.AbstractEventLoop]
SYNC_STATUS = """{ syncStatus { sources { system dead done pending }
  failed { id key state reason } } }"""


def on_demo_loop(demo_thread: DemoLoop, work: Coroutine[Any, Any, Any]) -> Any:
    """Run `work` on the demo's event loop (where its inbox and services live)."""
    return asyncio.run_coroutine_threadsafe(work, demo_thread[1]).result(WAIT_MS / 1000)


def erp_faults(demo: Demo, **knobs: Any) -> None:
    answer = httpx.post(f"{demo.emulations.erp_url}/_emulator/faults", json=knobs)
    assert answer.status_code == 200, answer.text


def the_gateway_reads_the_erp(demo: Demo) -> bool:
    """True once a read through the ERP connector succeeds (its breaker closed again)."""
    answer = httpx.post(
        demo.url,
        json={"query": "{ warehouses { id } }"},
        headers={"Authorization": f"Bearer {demo.tokens['admin']}"},
        timeout=WAIT_MS / 1000,
    ).json()
    return "errors" not in answer


def failed_changes(demo: Demo) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for f in gql(demo, "admin", SYNC_STATUS)["syncStatus"]["failed"]}


def erp_done(demo: Demo) -> int:
    sources = gql(demo, "admin", SYNC_STATUS)["syncStatus"]["sources"]
    return sum(s["done"] for s in sources if s["system"] == "erp")


# ---------------------------------------------------------------- Sync


def test_an_admin_sees_a_dead_change_and_retries_it_until_it_is_applied(
    open_tab: Any, demo_thread: DemoLoop
) -> None:
    from playwright.sync_api import expect

    demo = demo_thread[0]
    assert demo.app is not None
    record = "SKU-00007@Transit Hub - AC"
    key = f"erp:stock:{record}"
    change = Change(
        system="erp",
        entity="stock",
        record_id=record,
        operation="update",
        origin="notification",
        received_at=datetime.now(UTC),
    )
    erp_faults(demo, down=True)  # every ERPNext request answers 503
    try:
        assert on_demo_loop(demo_thread, demo.app.state.sync.put(change)) is True
        wait_until(lambda: failed_changes(demo).get(key, {}).get("state") == "DEAD", "dead")
    finally:
        erp_faults(demo, down=False)
    wait_until(lambda: the_gateway_reads_the_erp(demo), "the gateway reads the ERP again")
    dead = failed_changes(demo)[key]
    done_before = erp_done(demo)

    tab = open_tab()
    sign_in(tab, "admin")
    open_page(tab, "Sync")
    main = tab.page.locator("main")
    lag = main.get_by_role("region", name="Sync lag and inbox per source system")
    erp = lag.locator("tbody tr", has_text="ERP")
    expect(erp.locator('[data-status="DEAD"]')).to_have_count(1)
    failed = main.get_by_role("region", name="Failed changes (dead letters and retries)")
    row = failed.locator("tbody tr", has_text=key)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("BACKEND_UNAVAILABLE")  # the reason: what failed, where
    expect(row.locator('[data-status="DEAD"]')).to_have_text("dead")
    tab.shot("admin-sync-dead-letter")
    retry = row.get_by_role("button", name=f"Retry change {dead['id']}")
    retry.click()
    dialog = tab.page.locator("dialog.confirm")
    expect(dialog).to_contain_text(f"Retry change {dead['id']}?")
    tab.page.keyboard.press("Escape")  # going back retries nothing
    expect(dialog).to_have_count(0)
    assert failed_changes(demo)[key]["state"] == "DEAD"
    retry.click()
    tab.page.click("#confirm-yes")
    answer = tab.page.locator("#sync-result")
    expect(answer).to_contain_text(f"Retry of change {dead['id']}", timeout=WAIT_MS)
    expect(answer).to_contain_text("put back to be applied")
    wait_until(lambda: key not in failed_changes(demo), "the retried change left the failed")
    wait_until(lambda: erp_done(demo) > done_before, "the retried change was applied")
    tab.page.get_by_role("button", name="Refresh").click()
    expect(erp.locator('[data-status="DEAD"]')).to_have_count(0, timeout=WAIT_MS)
    expect(main.locator("tbody tr", has_text=key)).to_have_count(0)
    tab.shot("admin-sync-retried")
    tab.assert_clean()

    def unreachable(route: Any) -> None:
        route.abort("connectionrefused")

    tab.page.route("**/graphql", unreachable)  # a refresh the gateway does not answer
    tab.page.get_by_role("button", name="Refresh").click()
    alert = main.get_by_role("alert")
    expect(alert).to_contain_text("The gateway did not answer", timeout=WAIT_MS)
    tab.page.unroute("**/graphql", unreachable)
    alert.get_by_role("button", name="Try again").click()
    expect(lag).to_be_visible(timeout=WAIT_MS)
    assert main.get_by_role("alert").count() == 0


# ---------------------------------------------------------------- Reconciliation


def erp_item(demo: Demo, sku: str) -> httpx.Response:
    return httpx.get(f"{demo.emulations.erp_url}/api/resource/Item/{sku}", headers=ERP_AUTH)


def test_an_admin_repairs_a_finding_and_the_erp_has_the_item(open_tab: Any, demo: Demo) -> None:
    """The seed's CRM product without an ERP item: repaired from the console."""
    from playwright.sync_api import expect

    sku = "SKU-00999"
    assert erp_item(demo, sku).status_code == 404
    name = gql(demo, "admin", '{ product(sku: "SKU-00999") { name } }')["product"]["name"]
    tab = open_tab()
    sign_in(tab, "admin")
    open_page(tab, "Reconciliation")
    tab.page.get_by_role("button", name="Read both systems now").click()
    findings = tab.page.get_by_role("region", name="Findings")
    expect(findings).to_be_visible(timeout=WAIT_MS)
    row = findings.locator("tbody tr", has_text="product_without_item")
    expect(row).to_contain_text(sku)
    repair = row.get_by_role("button", name=f"Repair product_without_item {sku}")
    repair.click()
    dialog = tab.page.locator("dialog.confirm")
    expect(dialog).to_contain_text(f"create ERP item {sku}: item_code: {sku}, item_name: {name}")
    tab.shot("admin-reconciliation-repair-dialog", full_page=False)
    dialog.get_by_role("button", name="Go back").click()
    expect(dialog).to_have_count(0)
    assert erp_item(demo, sku).status_code == 404  # the dry run and going back wrote nothing
    repair.click()
    tab.page.click("#confirm-yes")
    answer = tab.page.locator("#repair-result")
    expect(answer).to_contain_text(f"Repair of product_without_item {sku}", timeout=WAIT_MS)
    expect(answer.locator('[data-status="APPLIED"]')).to_have_count(1)
    expect(answer.get_by_role("region", name="Writes of the repair")).to_contain_text(sku)
    expect(row.locator('[data-status="APPLIED"]')).to_have_count(1)  # the row says it is done
    tab.shot("admin-reconciliation-repaired", full_page=False)
    tab.assert_clean()

    item = erp_item(demo, sku)
    assert item.status_code == 200, item.text
    assert item.json()["data"]["item_name"] == name


def test_a_data_steward_reads_the_stored_run_with_repairs_but_no_sync(
    open_tab: Any, demo_thread: DemoLoop
) -> None:
    from playwright.sync_api import expect

    demo = demo_thread[0]
    assert demo.app is not None
    service = demo.app.state.reconciliation.service
    stored = on_demo_loop(demo_thread, service.run(trigger="cli"))  # as `crossdock reconcile`
    tab = open_tab()
    sign_in(tab, "data_steward", demo)
    assert "Sync" not in tab.page.locator("#nav a").all_inner_texts()
    open_page(tab, "Reconciliation")
    main = tab.page.locator("main")
    expect(main.locator("h2", has_text=f"Last stored run #{stored.id}")).to_have_count(1)
    rows = main.get_by_role("region", name="Findings").locator("tbody tr")
    expected = stored.count("severity")
    assert expected > 0
    expect(rows).to_have_count(min(expected, 50))
    fixable = rows.get_by_role("button", name="Repair")
    by_hand = rows.filter(has_text="by hand")
    assert fixable.count() + by_hand.count() == min(expected, 50)
    tab.shot("data_steward-reconciliation-stored-run")
    tab.assert_clean()
    tab.page.goto(f"{tab.base}/console#/sync")  # not offered, and refused in words
    notice = tab.page.locator("main .notice")
    expect(notice).to_contain_text("not a page your role may open", timeout=WAIT_MS)


# ---------------------------------------------------------------- Stock: reorder levels


def erp_get(demo: Demo, path: str, **params: str) -> Any:
    answer = httpx.get(f"{demo.emulations.erp_url}{path}", params=params, headers=ERP_AUTH)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def below_in_erp(demo: Demo) -> set[tuple[str, str]]:
    """(SKU, warehouse name) where ERPNext's projected quantity is at or below the level."""
    names = {
        w["name"]: w["warehouse_name"]
        for w in erp_rows(demo, "Warehouse", ["name", "warehouse_name"], [])
    }
    fields = json.dumps(["parent", "warehouse", "warehouse_reorder_level"])
    levels = erp_get(
        demo, "/api/resource/Item Reorder", parent="Item", fields=fields, limit_page_length="0"
    )
    level = {(r["parent"], r["warehouse"]): r["warehouse_reorder_level"] for r in levels}
    bins = erp_rows(demo, "Bin", ["item_code", "warehouse", "projected_qty"], [])
    return {
        (b["item_code"], names[b["warehouse"]])
        for b in bins
        if (b["item_code"], b["warehouse"]) in level
        and b["projected_qty"] <= level[b["item_code"], b["warehouse"]]
    }


def marked_rows(tab: Tab) -> set[tuple[str, str]]:
    """(SKU, warehouse) of the rows marked below reorder level, read at one instant."""
    cells = tab.page.eval_on_selector_all(
        'main tbody tr:has([data-status="BELOW_REORDER"])',
        "rows => rows.map((r) => [r.cells[0].innerText, r.cells[2].innerText])",
    )
    return {(sku, warehouse) for sku, warehouse in cells}


def test_stock_marks_rows_below_the_erps_reorder_level_and_follows_a_new_level(
    open_tab: Any, demo_thread: DemoLoop
) -> None:
    from playwright.sync_api import expect

    demo = demo_thread[0]
    assert demo.app is not None
    bus = demo.app.state.change_bus
    expected = below_in_erp(demo)
    assert expected  # the seed has rows below their level
    wait_until(lambda: bus.subscribers == 0, "the streams of earlier tests' pages ended")
    tab = open_tab()
    sign_in(tab, "logistics")
    open_page(tab, "Stock")
    wait_until(lambda: bus.subscribers == 1, "the stock page subscribed")
    assert marked_rows(tab) == expected
    tab.shot("logistics-stock-reorder-levels")

    # a level raised through ERPNext's REST API above a row's projected quantity, then a
    # stock change of that item announced (as the catch-up poll does when a Bin changes)
    sku = "SKU-00003"
    target = next(
        (s, w) for s, w in [(sku, "Stores"), (sku, "Finished Goods")] if (s, w) not in expected
    )
    warehouse = f"{target[1]} - AC"
    item = erp_get(demo, f"/api/resource/Item/{sku}")
    original = item["reorder_levels"]
    bins = erp_rows(
        demo, "Bin", ["projected_qty"], [["item_code", "=", sku], ["warehouse", "=", warehouse]]
    )
    row = {"warehouse": warehouse, "warehouse_reorder_level": bins[0]["projected_qty"] + 5}
    row["warehouse_reorder_qty"] = 40
    kept = [r for r in original if r["warehouse"] != warehouse]

    def set_levels(rows: list[dict[str, Any]]) -> None:
        answer = httpx.put(
            f"{demo.emulations.erp_url}/api/resource/Item/{sku}",
            json={"reorder_levels": rows},
            headers=ERP_AUTH,
        )
        assert answer.status_code == 200, answer.text

    def announce() -> None:
        change = Change(
            system="erp",
            entity="stock",
            record_id=f"{sku}@{warehouse}",
            operation="update",
            origin="notification",
            received_at=datetime.now(UTC),
        )
        demo_thread[1].call_soon_threadsafe(bus.publish, change)

    set_levels([*kept, row])
    try:
        announce()
        expect(tab.page.locator(".live")).to_contain_text(
            f"a stock change of {sku}", timeout=WAIT_MS
        )
        wait_until(lambda: marked_rows(tab) == expected | {target}, "the new level marked its row")
        tab.page.check("#only-short")  # only rows that need attention: short or below
        shown = tab.page.locator("main tbody tr")
        for listed in shown.all():
            classes = listed.get_attribute("class") or ""
            assert "short" in classes or "below" in classes
        tab.shot("logistics-stock-below-reorder")
    finally:
        set_levels(original)
    announce()
    tab.page.uncheck("#only-short")
    wait_until(lambda: marked_rows(tab) == expected, "the old level unmarked the row")
    tab.assert_clean()


# ---------------------------------------------------------------- live, from the CRM's own API


def zoho_set_status(demo: Demo, order_id: str, status: str) -> float:
    """An edit through Zoho's Records API, as a CRM user makes it (the demo's Zoho then
    notifies the gateway, whose sync rules act on it and announce it).

    The sync announces a change only when its version (Zoho's Modified_Time, to the second)
    is newer than the one applied: an edit within the same second as the order's last one is
    applied but not announced (docs/console.md, "Not there yet"). So the edit waits for the
    next second of the record's clock."""
    z = demo.emulations.zoho
    grant = {"grant_type": "refresh_token", "client_id": z.client_id}
    grant |= {"client_secret": z.client_secret, "refresh_token": z.refresh_token}
    url = demo.emulations.zoho_url
    token = httpx.post(f"{url}/oauth/v2/token", data=grant).json()["access_token"]
    auth = {"Authorization": f"Zoho-oauthtoken {token}"}
    record = f"{url}/crm/v8/Sales_Orders/{order_id}"
    modified = httpx.get(record, params={"fields": "Modified_Time"}, headers=auth)
    last = datetime.fromisoformat(modified.json()["data"][0]["Modified_Time"])
    wait_until(lambda: datetime.now(UTC) >= last + timedelta(seconds=1), "a later second")
    sent = time.monotonic()
    answer = httpx.put(record, json={"data": [{"Status": status}]}, headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"][0]["code"] == "SUCCESS", answer.text
    return sent


def test_orders_approved_or_cancelled_in_the_crm_update_the_open_pages(
    open_tab: Any, demo: Demo
) -> None:
    """No bus shortcut: Zoho's notification, the inbound receiver, the sync rules (the order's
    mirror and reservation, or its cancel) and the change bus, then the page's stream."""
    from playwright.sync_api import expect

    assert demo.app is not None
    bus = demo.app.state.change_bus
    wait_until(lambda: the_gateway_reads_the_erp(demo), "the gateway reads the ERP")
    wait_until(lambda: bus.subscribers == 0, "the streams of earlier tests' pages ended")
    first = place_held_order(demo, "admin")
    number, order_id = first["order"]["number"], first["order"]["id"]
    tab = open_tab()
    sign_in(tab, "admin")
    tab.page.goto(f"{tab.base}/console#/orders/{number}")
    expect(tab.page.locator(".live")).to_have_attribute("data-live", "on", timeout=WAIT_MS)
    status = tab.page.locator("main .card").first.locator(".badge").first
    expect(status).to_have_attribute("data-status", "PENDING_APPROVAL", timeout=WAIT_MS)
    # the stream answers before the gateway has joined the bus: a change made in between
    # would be missed, so the edit waits until the subscription is on the bus
    wait_until(lambda: bus.subscribers == 1, "the order page subscribed")
    started = zoho_set_status(demo, order_id, "Approved")
    expect(status).to_have_attribute("data-status", "APPROVED", timeout=WAIT_MS)
    print(f"console: a Zoho edit on screen after {time.monotonic() - started:.2f} s")  # no assert
    fulfillment = tab.page.locator("main .card").nth(1).locator(".badge").first
    expect(fulfillment).to_have_attribute("data-status", "RESERVED", timeout=WAIT_MS)
    tab.shot("admin-order-360-approved-in-the-crm")

    second = place_held_order(demo, "admin")
    card = tab.page.locator(f'li.held[data-order="{second["order"]["number"]}"]')
    open_page(tab, "Approvals")
    card.wait_for(timeout=WAIT_MS)
    expect(tab.page.locator(".live")).to_have_attribute("data-live", "on", timeout=WAIT_MS)
    wait_until(lambda: bus.subscribers == 1, "the approvals page subscribed (the order's ended)")
    zoho_set_status(demo, second["order"]["id"], "Cancelled")
    expect(card).to_have_count(0, timeout=WAIT_MS)
    expect(tab.page.locator(".live")).to_contain_text("updated at")
    assert zoho_order_status(demo, second["order"]["id"]) == "Cancelled"
    tab.assert_clean()


def test_the_operations_pages_read_at_200_percent_zoom(open_tab: Any, demo: Demo) -> None:
    """At a 650 px wide viewport (1300 px at 200 %) no page scrolls sideways: wide tables
    scroll inside their own region."""
    tab = open_tab(viewport=(650, 450))
    sign_in(tab, "admin")
    for title in ("Sync", "Reconciliation", "Stock"):
        open_page(tab, title)
        if title == "Reconciliation":
            tab.page.get_by_role("button", name="Read both systems now").click()
            tab.page.get_by_role("region", name="Findings").wait_for(timeout=WAIT_MS)
        overflow = tab.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, (title, overflow)
    tab.shot("admin-reconciliation-200-percent")
    tab.assert_clean()


def test_order_360_marks_the_lines_stock_below_its_reorder_level(open_tab: Any, demo: Demo) -> None:
    expected = below_in_erp(demo)
    query = "{ orders(first: 30) { nodes { number lines { sku } } } }"
    orders = gql(demo, "admin", query)["orders"]["nodes"]
    # an order with a line whose stock is below its level somewhere
    order = next(o for o in orders if any(s == ln["sku"] for ln in o["lines"] for s, _ in expected))
    marks = sum(1 for ln in order["lines"] for s, _ in expected if s == ln["sku"])
    tab = open_tab()
    sign_in(tab, "logistics")
    main = open_order(tab, order["number"])
    lines = main.get_by_role("region", name=f"Lines of {order['number']}")
    assert lines.locator('[data-status="BELOW_REORDER"]').count() == marks
    tab.assert_clean()
