"""The console in a real browser: headless Chromium on `crossdock demo`, one default role at a time.

The demo runs as `crossdock demo` runs it (both emulations and the gateway on loopback, in a
thread of its own, with a fresh data directory), and Debian's `chromium` is driven by
Playwright's Python package through `executable_path` (no browser download). Every request
the page makes that is not to loopback is aborted and recorded; each test asserts there was
none, that the page logged no error, and that no GraphQL answer it received carried an error
(the console asks only for what the role may see, so nothing is denied).

Each role signs in with the demo's role picker and opens every page it is offered; what is
shown and what is absent is checked (the analyst's masked email, the partner's own carrier
only, sales without approve buttons), an admin approves a held order and both emulations are
read over HTTP afterwards. Screenshots go to `var/test-artifacts/console/` (ignored by git;
CROSSDOCK_ARTIFACTS moves it); their paths are printed.

Where Chromium is missing these tests fail saying how to install it;
CROSSDOCK_SKIP_BROWSER_TESTS=1 skips them knowingly.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.auth.tokens import mint
from gateway.cli.demo import Demo
from resolvers.sync import Change
from tests.console.support import ARTIFACTS, ERP_AUTH, WAIT_MS, Tab

pytestmark = [pytest.mark.browser, pytest.mark.sockets]

PAGES = {
    "admin": ["Order 360", "Approvals", "Shipments", "Stock", "Exports", "Sync", "Reconciliation"],
    "sales": ["Order 360", "Approvals", "Shipments", "Stock", "Exports"],
    "logistics": ["Order 360", "Shipments", "Stock", "Exports"],
    "analyst": ["Order 360", "Shipments", "Stock", "Exports"],
    "partner": ["Shipments", "Exports"],
    # the policy's other roles, not offered by the demo's picker: signed in with a pasted token
    "data_steward": ["Order 360", "Shipments", "Stock", "Exports", "Reconciliation"],
    "router": ["Exports"],
}


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_MS / 1000
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def sign_in(tab: Tab, role: str, demo: Demo | None = None) -> None:
    """The demo's role button; for a role it does not offer, a token minted with its secret
    pasted in the token field (`demo` needed)."""
    from playwright.sync_api import expect

    tab.page.goto(f"{tab.base}/console", wait_until="load")
    if demo is None or role in demo.tokens:
        tab.page.click(f'[data-role="{role}"]', timeout=WAIT_MS)
    else:
        secret = demo.settings.auth.hs256_secret
        assert secret is not None
        token = mint(secret, subject=f"demo-{role}", roles=[role], ttl=3600)
        tab.page.fill("#token", token)
        tab.page.get_by_role("button", name="Sign in", exact=True).click()
    expect(tab.page.locator("#signed-in")).to_contain_text(f"demo-{role} ({role}", timeout=WAIT_MS)


def open_page(tab: Tab, title: str) -> None:
    """Follow the nav link, then wait until the page has loaded (no loading state left)."""
    from playwright.sync_api import expect

    tab.page.locator("#nav").get_by_role("link", name=title, exact=True).click()
    expect(tab.page.locator("main h1")).to_have_text(title, timeout=WAIT_MS)
    expect(tab.page.locator("main .loading")).to_have_count(0, timeout=WAIT_MS)
    failed = tab.page.locator("main .error")
    assert failed.count() == 0, failed.all_inner_texts()


def open_order(tab: Tab, number: str) -> Any:
    from playwright.sync_api import expect

    tab.page.fill("#order-search", number)
    tab.page.keyboard.press("Enter")
    expect(tab.page.locator("main h2").first).to_have_text(f"Order {number}", timeout=WAIT_MS)
    expect(tab.page.locator("main .loading")).to_have_count(0, timeout=WAIT_MS)
    return tab.page.locator("main")


# ---------------------------------------------------------------- the systems, over HTTP


def gql(demo: Demo, role: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    answer = httpx.post(
        demo.url,
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {demo.tokens[role]}"},
        timeout=WAIT_MS / 1000,
    ).json()
    assert "errors" not in answer, answer
    return answer["data"]


PLACE = """mutation($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input,
  idempotencyKey: $key) { processId status order { id number }
  approval { reasons { rule passed } } } }"""


def place_held_order(demo: Demo, role: str, sku: str = "SKU-00009") -> dict[str, Any]:
    """An order the credit rule holds (stock passing), placed by `role`, tried per customer."""
    customers = gql(
        demo, "admin", "{ customers(first: 50) { nodes { id creditLimit { amount } } } }"
    )
    ordered = sorted(
        customers["customers"]["nodes"], key=lambda c: float(c["creditLimit"]["amount"])
    )
    for customer in ordered:
        line = {"sku": sku, "quantity": 1}
        variables = {"input": {"customerId": customer["id"], "lines": [line]}}
        variables["key"] = f"console-test-{uuid.uuid4()}"
        result = gql(demo, role, PLACE, variables)["placeOrder"]
        passed = {r["rule"]: r["passed"] for r in result["approval"]["reasons"]}
        if result["status"] == "PENDING_APPROVAL" and passed == {"credit": False, "stock": True}:
            return dict(result)
    raise AssertionError("no seeded customer has its credit exceeded: cannot hold an order")


def zoho_order_status(demo: Demo, order_id: str) -> str:
    z = demo.emulations.zoho
    grant = {
        "grant_type": "refresh_token",
        "client_id": z.client_id,
        "client_secret": z.client_secret,
        "refresh_token": z.refresh_token,
    }
    url = demo.emulations.zoho_url
    token = httpx.post(f"{url}/oauth/v2/token", data=grant).json()["access_token"]
    answer = httpx.get(
        f"{url}/crm/v8/Sales_Orders/{order_id}",
        params={"fields": "Status"},
        headers={"Authorization": f"Zoho-oauthtoken {token}"},
    )
    return str(answer.json()["data"][0]["Status"])


def erp_rows(demo: Demo, doctype: str, fields: list[str], filters: list[Any]) -> list[Any]:
    answer = httpx.get(
        f"{demo.emulations.erp_url}/api/resource/{doctype}",
        params={
            "fields": json.dumps(fields),
            "filters": json.dumps(filters),
            "limit_page_length": "0",
        },
        headers=ERP_AUTH,
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


def reserved_in_erp(demo: Demo, sku: str) -> float:
    bins = erp_rows(demo, "Bin", ["reserved_qty"], [["item_code", "=", sku]])
    return sum(float(b["reserved_qty"]) for b in bins)


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("role", list(PAGES))
def test_each_role_opens_the_pages_it_may_read_and_no_other(
    open_tab: Any, demo: Demo, role: str
) -> None:
    tab = open_tab()
    sign_in(tab, role, demo)
    nav = tab.page.locator("#nav a")
    assert nav.all_inner_texts() == PAGES[role]
    for title in PAGES[role]:
        open_page(tab, title)
        if title == "Reconciliation":
            tab.page.get_by_role("button", name="Read both systems now").click()
            tab.page.locator("main table, main .empty").first.wait_for(timeout=WAIT_MS)
        tab.shot(f"{role}-{title.lower().replace(' ', '-')}")
    tab.assert_clean()
    # a page the role may not open is refused in words, not with an error
    if "Approvals" not in PAGES[role]:
        tab.page.goto(f"{tab.base}/console#/approvals")
        notice = tab.page.locator("main .notice")
        notice.wait_for(timeout=WAIT_MS)
        assert "not a page your role may open" in notice.inner_text()
    assert all(r.split(" ", 1)[1].startswith(tab.base) for r in tab.requests if " http" in r)


@pytest.mark.parametrize(
    ("role", "shown", "absent"),
    [
        ("admin", ["Email", "Phone", "Credit limit", "@"], ["***"]),
        ("analyst", ["Email", "***@", "Credit limit"], ["Phone", "Ship to"]),
        ("sales", ["Email", "Phone", "Ship to"], ["Credit limit", "***"]),
        ("logistics", ["Ship to"], ["Email", "Phone", "Credit limit"]),
    ],
)
def test_order_360_shows_the_customer_as_far_as_the_role_may_read(
    open_tab: Any, demo: Demo, role: str, shown: list[str], absent: list[str]
) -> None:
    number = gql(demo, "admin", "{ orders(first: 1, status: APPROVED) { nodes { number } } }")
    number = number["orders"]["nodes"][0]["number"]
    tab = open_tab()
    sign_in(tab, role)
    main = open_order(tab, number)
    customer = main.locator("#customer").inner_text()
    for text in shown:
        assert text in customer, (role, text, customer)
    for text in absent:
        assert text not in customer, (role, text, customer)
    assert main.get_by_role("region", name=f"Lines of {number}").count() == 1
    assert "Stock per warehouse (ERP)" in main.inner_text()
    assert main.locator("h2", has_text="Shipments (ERP)").count() == 1
    tab.shot(f"{role}-order-360-{number}")
    tab.assert_clean()


def test_order_360_finds_a_customers_orders_and_opens_one(open_tab: Any, demo: Demo) -> None:
    from playwright.sync_api import expect

    query = "{ customers(first: 1) { nodes { name orders(first: 50) { nodes { number } } } } }"
    customer = gql(demo, "sales", query)["customers"]["nodes"][0]
    numbers = [o["number"] for o in customer["orders"]["nodes"]]
    word = customer["name"].split()[0]
    tab = open_tab()
    sign_in(tab, "sales")
    tab.page.fill("#order-search", word)
    tab.page.get_by_role("button", name="Search").click()
    found = tab.page.get_by_role("region", name=f"Orders of {customer['name']}")
    expect(found).to_be_visible(timeout=WAIT_MS)
    shown = found.locator("tbody tr td:first-child").all_inner_texts()
    assert shown == numbers[: len(shown)]
    assert shown
    found.get_by_role("link", name=shown[0]).click()
    expect(tab.page.locator("main h2").first).to_have_text(f"Order {shown[0]}", timeout=WAIT_MS)
    assert f"#/orders/{shown[0]}" in tab.page.url
    tab.assert_clean()


def test_a_partner_sees_only_its_carriers_shipments_and_exports(open_tab: Any, demo: Demo) -> None:
    dhl = {s["name"] for s in erp_rows(demo, "Shipment", ["name"], [["carrier", "=", "DHL"]])}
    every = {s["name"] for s in erp_rows(demo, "Shipment", ["name"], [])}
    assert dhl
    assert every - dhl  # other carriers exist, and must not be shown
    tab = open_tab()
    sign_in(tab, "partner")
    open_page(tab, "Shipments")
    rows = tab.page.locator("main tbody tr")
    shown = {row.locator("td").first.inner_text() for row in rows.all()}
    assert shown == dhl
    carriers = {c.split(" · ")[0] for c in rows.locator("td:nth-child(3)").all_inner_texts()}
    assert carriers == {"DHL"}
    open_page(tab, "Exports")
    exports = tab.page.locator("main tbody tr")
    assert exports.locator("td:first-child").all_inner_texts() == ["shipments"]
    assert "value, currency" in exports.first.inner_text()  # left out for the partner
    with tab.page.expect_download(timeout=WAIT_MS) as started:
        tab.page.get_by_role("button", name="Download shipments as csv").click()
    saved = ARTIFACTS / "partner-shipments.csv"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    started.value.save_as(saved)
    table = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert {row["shipment"] for row in table} == dhl
    assert "value" not in table[0]
    tab.shot("partner-exports")
    tab.assert_clean()
    # the token went in a header, never in a URL
    assert not any(demo.tokens["partner"] in r for r in tab.requests)


def test_sales_reads_its_held_order_but_cannot_approve_it(open_tab: Any, demo: Demo) -> None:
    held = place_held_order(demo, "sales")
    number = held["order"]["number"]
    tab = open_tab()
    sign_in(tab, "sales")
    open_page(tab, "Approvals")
    card = tab.page.locator(f'li.held[data-order="{number}"]')
    card.wait_for(timeout=WAIT_MS)
    text = card.inner_text()
    assert "credit" in text
    assert "amounts need finance:read" in text  # the verdict without figures
    assert card.get_by_role("button").count() == 0
    assert tab.page.get_by_role("button", name=f"Approve {number}").count() == 0
    assert "may read held orders but not approve" in tab.page.locator("main").inner_text()
    tab.shot("sales-approvals")
    tab.assert_clean()


def test_an_admin_approves_a_held_order_and_both_systems_change(open_tab: Any, demo: Demo) -> None:
    from playwright.sync_api import expect

    sku = "SKU-00009"
    # more held orders than the console asks processes for in one request (PROCESS_BATCH, 10;
    # the gateway's default limit is 20 root fields per operation)
    pending = "{ orders(first: 50, status: PENDING_APPROVAL) { nodes { id } } }"
    while len(gql(demo, "admin", pending)["orders"]["nodes"]) < 24:
        place_held_order(demo, "admin", "SKU-00008")
    held = place_held_order(demo, "admin", sku)
    number, order_id = held["order"]["number"], held["order"]["id"]
    assert zoho_order_status(demo, order_id) == "Pending Approval"
    assert erp_rows(demo, "Sales Order", ["name"], [["custom_crm_order_id", "=", order_id]]) == []
    reserved_before = reserved_in_erp(demo, sku)

    tab = open_tab()
    sign_in(tab, "admin")
    open_page(tab, "Approvals")
    card = tab.page.locator(f'li.held[data-order="{number}"]')
    card.wait_for(timeout=WAIT_MS)
    failing = card.locator("tr.failing").inner_text()
    assert "credit" in failing
    assert "exceeds remaining credit" in failing  # admin holds finance:read: the figures
    tab.shot("admin-approvals", full_page=False)  # the newest held order first
    card.get_by_role("button", name=f"Approve {number}").click()
    dialog = tab.page.locator("dialog.confirm")
    expect(dialog).to_contain_text(f"Approve {number}?")
    tab.page.keyboard.press("Escape")  # going back changes nothing
    expect(dialog).to_have_count(0)
    assert zoho_order_status(demo, order_id) == "Pending Approval"
    card.get_by_role("button", name=f"Approve {number}").click()
    tab.page.click("#confirm-yes")
    answer = tab.page.locator("#approval-result")
    expect(answer).to_contain_text(f"Approval of {number}", timeout=WAIT_MS)
    expect(answer.locator('[data-status="APPROVED"]')).to_have_count(2)  # process, CRM order
    expect(answer.locator('[data-status="RESERVED"]')).to_have_count(1)
    expect(answer.get_by_role("region", name=f"Reservations of {number}")).to_contain_text(sku)
    expect(tab.page.locator(f'li.held[data-order="{number}"]')).to_have_count(0)
    tab.shot("admin-approved", full_page=False)
    tab.assert_clean()

    assert zoho_order_status(demo, order_id) == "Approved"
    mirrors = erp_rows(
        demo, "Sales Order", ["name", "docstatus"], [["custom_crm_order_id", "=", order_id]]
    )
    assert [m["docstatus"] for m in mirrors] == [1]
    assert reserved_in_erp(demo, sku) == reserved_before + 1


def test_the_console_works_by_keyboard_and_at_200_percent_zoom(open_tab: Any, demo: Demo) -> None:
    from playwright.sync_api import expect

    tab = open_tab(viewport=(650, 450))  # a 1300 x 900 window at 200 %
    tab.page.goto(f"{tab.base}/console", wait_until="load")
    tab.page.locator('[data-role="logistics"]').wait_for(timeout=WAIT_MS)
    for _ in range(30):
        if tab.page.evaluate("document.activeElement?.dataset?.role") == "logistics":
            break
        tab.page.keyboard.press("Tab")
    tab.page.keyboard.press("Enter")
    expect(tab.page.locator("#signed-in")).to_contain_text("demo-logistics", timeout=WAIT_MS)
    for title in PAGES["logistics"]:
        open_page(tab, title)
        overflow = tab.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, (title, overflow)  # wide tables scroll in their own region
    open_page(tab, "Order 360")
    tab.page.locator("main tbody a").first.click()  # an order, its lines and stock
    expect(tab.page.locator("main h2").first).to_contain_text("Order SO-", timeout=WAIT_MS)
    expect(tab.page.locator("main .loading")).to_have_count(0, timeout=WAIT_MS)
    overflow = tab.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, ("order", overflow)
    tab.page.goto(f"{tab.base}/console#/stock")
    expect(tab.page.locator("main h1")).to_have_text("Stock", timeout=WAIT_MS)
    tab.page.locator("main table").wait_for(timeout=WAIT_MS)
    tab.shot("logistics-stock-200-percent")
    tab.assert_clean()


def test_a_pasted_token_signs_in_and_is_kept_for_the_tab_only(open_tab: Any, demo: Demo) -> None:
    from playwright.sync_api import expect

    tab = open_tab()
    tab.page.goto(f"{tab.base}/console", wait_until="load")
    tab.page.fill("#token", "not-a-token")
    tab.page.get_by_role("button", name="Sign in", exact=True).click()
    expect(tab.page.locator(".form-status")).to_contain_text("refused the token", timeout=WAIT_MS)
    tab.page.fill("#token", f"Bearer {demo.tokens['analyst']}")
    tab.page.get_by_role("button", name="Sign in", exact=True).click()
    expect(tab.page.locator("#signed-in")).to_contain_text("demo-analyst", timeout=WAIT_MS)
    tab.page.get_by_role("region", name="Recent orders").wait_for(timeout=WAIT_MS)
    posts = [r for r in tab.requests if r.startswith("POST ") and r.endswith("/graphql")]
    assert len(posts) == 3  # the refused token, the role's schema, the first page: once each
    assert demo.tokens["analyst"] not in tab.page.url
    stored = tab.page.evaluate("Object.keys(localStorage).length")
    assert stored == 0
    tab.page.reload()
    expect(tab.page.locator("#signed-in")).to_contain_text("demo-analyst", timeout=WAIT_MS)
    tab.page.get_by_role("button", name="Sign out").click()
    expect(tab.page.locator("#token")).to_be_visible()
    assert tab.page.evaluate("sessionStorage.length") == 0


def test_order_360_and_approvals_follow_changes_live(
    open_tab: Any, demo_thread: tuple[Demo, asyncio.AbstractEventLoop]
) -> None:
    """An order approved elsewhere: the change bus's event updates both pages in place."""
    from playwright.sync_api import expect

    demo, loop = demo_thread
    assert demo.app is not None
    bus = demo.app.state.change_bus

    def approve_elsewhere_and_announce(held: dict[str, Any]) -> None:
        approve = "mutation($id: ID!) { approveOrder(id: $id) { status } }"
        assert gql(demo, "admin", approve, {"id": held["processId"]})["approveOrder"] == {
            "status": "APPROVED"
        }
        change = Change(
            system="crm",
            entity="order",
            record_id=held["order"]["id"],
            operation="update",
            origin="notification",
            received_at=datetime.now(UTC),
        )
        loop.call_soon_threadsafe(bus.publish, change)

    wait_until(lambda: bus.subscribers == 0, "the streams of earlier tests' pages ended")
    first = place_held_order(demo, "admin")
    number = first["order"]["number"]
    tab = open_tab()
    sign_in(tab, "admin")
    tab.page.goto(f"{tab.base}/console#/orders/{number}")
    expect(tab.page.locator(".live")).to_have_attribute("data-live", "on", timeout=WAIT_MS)
    wait_until(lambda: bus.subscribers == 1, "the order page subscribed")
    status = tab.page.locator("main .card").first.locator(".badge").first
    expect(status).to_have_attribute("data-status", "PENDING_APPROVAL")
    approve_elsewhere_and_announce(first)
    expect(status).to_have_attribute("data-status", "APPROVED", timeout=WAIT_MS)
    expect(tab.page.locator(".live")).to_contain_text("updated at", timeout=WAIT_MS)
    tab.shot("admin-order-360-live")

    open_page(tab, "Exports")  # a page without streams: the order's stream ends
    wait_until(lambda: bus.subscribers == 0, "the order page's stream ended")
    second = place_held_order(demo, "admin")
    card = tab.page.locator(f'li.held[data-order="{second["order"]["number"]}"]')
    tab.page.goto(f"{tab.base}/console#/approvals")
    card.wait_for(timeout=WAIT_MS)
    expect(tab.page.locator(".live")).to_have_attribute("data-live", "on", timeout=WAIT_MS)
    wait_until(lambda: bus.subscribers == 1, "the approvals page subscribed")
    approve_elsewhere_and_announce(second)
    expect(card).to_have_count(0, timeout=WAIT_MS)
    tab.assert_clean()


def test_an_admin_cancels_a_held_order_and_the_crm_says_cancelled(
    open_tab: Any, demo: Demo
) -> None:
    from playwright.sync_api import expect

    held = place_held_order(demo, "admin")
    number, order_id = held["order"]["number"], held["order"]["id"]
    tab = open_tab()
    sign_in(tab, "admin")
    open_page(tab, "Approvals")
    card = tab.page.locator(f'li.held[data-order="{number}"]')
    card.get_by_role("button", name=f"Cancel {number}").click()
    dialog = tab.page.locator("dialog.confirm")
    expect(dialog).to_contain_text("stock it holds in the ERP is released")
    dialog.get_by_role("button", name=f"Yes, cancel {number}").click()
    answer = tab.page.locator("#approval-result")
    expect(answer).to_contain_text(f"Cancellation of {number}", timeout=WAIT_MS)
    expect(answer.locator('[data-status="CANCELLED"]')).to_have_count(2)  # process, CRM order
    expect(card).to_have_count(0)
    tab.assert_clean()
    assert zoho_order_status(demo, order_id) == "Cancelled"
    mirrors = erp_rows(
        demo, "Sales Order", ["name", "docstatus"], [["custom_crm_order_id", "=", order_id]]
    )
    assert all(m["docstatus"] != 1 for m in mirrors)  # nothing reserves stock for it


def test_empty_and_error_states_say_what_happened(open_tab: Any, demo: Demo) -> None:
    """Nothing found is said in words; a gateway that does not answer is an error state
    (produced by aborting the page's requests to /graphql in the browser), never a crash."""
    from playwright.sync_api import Route, expect

    tab = open_tab()
    sign_in(tab, "sales")
    main = tab.page.locator("main")
    tab.page.fill("#order-search", "SO-999999")
    tab.page.keyboard.press("Enter")
    expect(main.locator(".empty")).to_have_text(
        "No order SO-999999 (or none this role may read).", timeout=WAIT_MS
    )
    tab.page.fill("#order-search", "zzqx")
    tab.page.keyboard.press("Enter")
    expect(main.locator(".empty")).to_have_text("No customer matches “zzqx”.", timeout=WAIT_MS)
    tab.assert_clean()

    def unreachable(route: Route) -> None:
        route.abort("connectionrefused")

    tab.page.route("**/graphql", unreachable)
    tab.page.locator("#nav").get_by_role("link", name="Stock", exact=True).click()
    alert = main.get_by_role("alert")
    expect(alert).to_contain_text("The gateway did not answer", timeout=WAIT_MS)
    expect(alert).to_contain_text("try again")
    tab.shot("sales-stock-gateway-unreachable")
    tab.page.unroute("**/graphql", unreachable)
    alert.get_by_role("button", name="Try again").click()
    expect(main.get_by_role("region", name="Stock by product and warehouse")).to_be_visible(
        timeout=WAIT_MS
    )
    assert main.get_by_role("alert").count() == 0


def test_a_partners_shipments_follow_only_its_carriers_changes(
    open_tab: Any, demo_thread: tuple[Demo, asyncio.AbstractEventLoop]
) -> None:
    """shipmentChanged under the partner's row rule: another carrier's change never shows."""
    from playwright.sync_api import expect

    demo, loop = demo_thread
    assert demo.app is not None
    bus = demo.app.state.change_bus
    dhl = erp_rows(demo, "Shipment", ["name"], [["carrier", "=", "DHL"]])[0]["name"]
    ups = erp_rows(demo, "Shipment", ["name"], [["carrier", "=", "UPS"]])[0]["name"]

    def announce(shipment: str) -> None:
        change = Change(
            system="erp",
            entity="shipment",
            record_id=shipment,
            operation="update",
            origin="notification",
            received_at=datetime.now(UTC),
        )
        loop.call_soon_threadsafe(bus.publish, change)

    wait_until(lambda: bus.subscribers == 0, "the streams of earlier tests' pages ended")
    tab = open_tab()
    sign_in(tab, "partner")
    open_page(tab, "Shipments")
    wait_until(lambda: bus.subscribers == 1, "the shipments page subscribed")
    before = tab.page.locator("main tbody tr td:first-child").all_inner_texts()
    announce(ups)  # read under the partner's row rule: skipped by the gateway
    announce(dhl)  # events arrive in order: once this one shows, the UPS one was skipped
    indicator = tab.page.locator(".live")
    expect(indicator).to_contain_text(f"after a change of {dhl}", timeout=WAIT_MS)
    after = tab.page.locator("main tbody tr td:first-child").all_inner_texts()
    assert after == before  # the DHL row replaced in place, no UPS row
    assert ups not in after
    tab.assert_clean()
