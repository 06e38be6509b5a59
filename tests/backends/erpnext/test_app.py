from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from backends.controls import Controls
from backends.erpnext.app import ErpEmulator, ErpSettings, classify, create_app
from backends.erpnext.store import ErpStore
from tests.support.erpnext_emulation import AUTH, messages, sales_order, seed

BASIC = base64.b64encode(b"crossdock-demo:crossdock-demo-secret").decode()


def client_for(app: object, **headers: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://erp.test", headers=headers)


# Each row is a way a client may present the key pair.
@pytest.mark.parametrize(
    "header",
    [
        "token crossdock-demo:crossdock-demo-secret",  # Frappe's documented form
        f"Basic {BASIC}",  # HTTP Basic with key:secret
        "Bearer crossdock-demo:crossdock-demo-secret",  # tolerated as the brief allows
    ],
)
async def test_each_accepted_auth_scheme_gets_in(emulator: ErpEmulator, header: str) -> None:
    async with client_for(emulator.app, Authorization=header) as c:
        assert (await c.get("/api/resource/Item")).status_code == 200


# Each row is a way to get auth wrong.
@pytest.mark.parametrize(
    "headers",
    [
        {},  # no header at all
        {"Authorization": "token crossdock-demo:wrong"},  # bad secret
        {"Authorization": "Basic !!!"},  # undecodable Basic
        {"Authorization": "Digest whatever"},  # unknown scheme
    ],
)
async def test_missing_or_bad_credentials_get_a_401(
    emulator: ErpEmulator, headers: dict[str, str]
) -> None:
    async with client_for(emulator.app, **headers) as c:
        response = await c.get("/api/resource/Item")
    assert response.status_code == 401
    assert response.json()["exc_type"] == "AuthenticationError"
    assert messages(response.json()) == ["Invalid login credentials"]


async def test_an_html_client_gets_an_html_error_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/resource/Item/NOPE", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Item NOPE not found" in response.text


async def test_an_unknown_route_is_a_does_not_exist_error(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/nothing/here")
    assert (response.status_code, response.json()["exc_type"]) == (404, "DoesNotExistError")


async def test_throttling_answers_429_with_retry_after_and_a_frappe_body(store: ErpStore) -> None:
    emulator = ErpEmulator(store, controls=Controls(throttle_rate=1.0, retry_after_s=3))
    async with client_for(emulator.app, **AUTH) as c:
        response = await c.get("/api/resource/Bin")
    assert (response.status_code, response.headers["retry-after"]) == (429, "3")
    assert response.json()["exc_type"] == "TooManyRequestsError"


async def test_injected_failures_and_downtime(store: ErpStore) -> None:
    emulator = ErpEmulator(store, controls=Controls(error_rate=1.0))
    async with client_for(emulator.app, **AUTH) as c:
        failed = await c.get("/api/resource/Bin")
        emulator.controls.update({"error_rate": 0.0, "down": True})
        down = await c.get("/api/resource/Bin")
        emulator.controls.reset()
        up = await c.get("/api/resource/Bin")
    assert (failed.status_code, failed.json()["exc_type"]) == (500, "Exception")
    assert (down.status_code, up.status_code) == (503, 200)


async def test_requests_are_counted_by_route(
    emulator: ErpEmulator, client: httpx.AsyncClient
) -> None:
    await client.get("/api/resource/Bin")
    await client.get("/api/resource/Bin")
    await client.get("/api/resource/Warehouse/Stores%20-%20AC")
    assert emulator.stats.snapshot()["routes"] == {
        "GET /api/resource/Bin": 2,
        "GET /api/resource/Warehouse/{name}": 1,
    }


def test_route_classifier_names_resource_routes() -> None:
    assert (
        classify("PUT", "/api/resource/Shipment/SHIPMENT-00001")
        == "PUT /api/resource/Shipment/{name}"
    )
    assert classify("POST", "/api/resource/Item") == "POST /api/resource/Item"
    assert (
        classify("GET", "/api/v1/resource/Sales Order/A/B")
        == "GET /api/v1/resource/Sales Order/{name}"
    )


async def test_admin_endpoint_is_off_unless_enabled(store: ErpStore) -> None:
    async with client_for(create_app(store), **AUTH) as off:
        assert (await off.get("/_emulator/stats")).status_code == 404
    async with client_for(create_app(store, ErpSettings(admin_enabled=True)), **AUTH) as on:
        await on.get("/api/resource/Item")
        assert (await on.get("/_emulator/stats")).json()["total"] == 1


async def test_documents_written_over_http_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "erp.sqlite3"
    store = ErpStore(path)
    seed(store)
    async with client_for(create_app(store), **AUTH) as c:
        made = (await c.post("/api/resource/Sales Order", json=sales_order(docstatus=1))).json()
    store.close()
    reopened = ErpStore(path)
    async with client_for(create_app(reopened), **AUTH) as c:
        again = await c.get(f"/api/resource/Sales Order/{made['data']['name']}")
        second = await c.post("/api/resource/Sales Order", json=sales_order())
    reopened.close()
    assert again.json()["data"]["docstatus"] == 1
    assert second.json()["data"]["name"] != made["data"]["name"]


def test_seeding_two_thousand_orders_with_shipments_commits_per_batch_not_per_row() -> None:
    """What keeps seeding fast, counted instead of timed: one transaction per insert call."""
    store = ErpStore(":memory:")
    seed(store)
    statements: list[str] = []
    orders = [
        sales_order(docstatus=1, custom_crm_order_id=str(5725767000001000 + i), items=[
            {"item_code": "WIDGET-1", "qty": 1.0 + j, "warehouse": "Stores - AC"} for j in range(3)
        ])
        for i in range(2000)
    ]  # fmt: skip
    store.conn.set_trace_callback(statements.append)
    names = store.insert("Sales Order", orders)
    store.insert("Shipment", [
        {"delivery_customer": "Globex", "custom_crm_order_id": str(5725767000001000 + i),
         "pickup_date": "2026-03-05", "docstatus": 1, "status": "Submitted",
         "shipment_parcel": [{"weight": 1.0}]}
        for i in range(1500)
    ])  # fmt: skip
    store.recompute_bins()
    store.conn.set_trace_callback(None)
    assert sum(sql.lstrip().upper().startswith("COMMIT") for sql in statements) <= 3
    assert (store.count("Sales Order"), store.count("Sales Order Item")) == (2000, 6000)
    assert names[-1] == "SAL-ORD-" + names[-1][8:12] + "-02000"
    widget = store.query("SELECT reserved_qty FROM tabBin WHERE item_code = 'WIDGET-1'")
    assert widget == [{"reserved_qty": 12000.0}]
    store.close()


def test_seeding_rejects_unknown_fields() -> None:
    store = ErpStore(":memory:")
    with pytest.raises(ValueError, match="no field"):
        store.insert("Item", [{"item_code": "X", "colour": "red"}])
    store.close()


def test_settings_and_store_must_agree_on_the_site_time_zone() -> None:
    store = ErpStore(":memory:", tz="Asia/Kolkata")
    with pytest.raises(ValueError, match=r"ErpSettings\.tz"):
        ErpEmulator(store, ErpSettings())
    assert ErpEmulator(store, ErpSettings(tz="Asia/Kolkata")).settings.tz == "Asia/Kolkata"
    store.close()


def test_datetimes_are_naive_site_local() -> None:
    from datetime import datetime

    clock = lambda: datetime(2026, 6, 27, 10, 0)  # noqa: E731 - a fixed site-local clock
    store = ErpStore(":memory:", clock=clock)
    store.insert("Company", [{"company_name": "Acme Corp", "abbr": "AC"}])
    doc = store.get("Company", "Acme Corp")
    assert doc is not None
    assert doc["creation"] == "2026-06-27 10:00:00.000000"
    assert store.now() == "2026-06-27 10:00:00.000001"  # modified never repeats
    store.close()
