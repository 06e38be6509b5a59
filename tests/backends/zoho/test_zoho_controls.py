from __future__ import annotations

from pathlib import Path

import httpx

from backends.zoho.app import ZohoEmulator, ZohoSettings, classify
from backends.zoho.store import ZohoStore
from tests.support.zoho_emulation import BASE_URL, seed_accounts, token_for


async def test_throttling_answers_429_with_zohos_envelope_and_retry_after(
    emulator: ZohoEmulator, client: httpx.AsyncClient
) -> None:
    emulator.controls.update({"throttle_rate": 1.0, "retry_after_s": 3})
    reply = await client.get("/crm/v8/Accounts", params={"fields": "id"})
    assert reply.status_code == 429
    assert reply.headers["Retry-After"] == "3"
    assert reply.json() == {
        "code": "TOO_MANY_REQUESTS",
        "message": "too many requests, retry later",
        "status": "error",
        "details": {},
    }


async def test_injected_errors_answer_500_internal_error(
    emulator: ZohoEmulator, client: httpx.AsyncClient
) -> None:
    emulator.controls.update({"error_rate": 1.0})
    reply = await client.get("/crm/v8/Accounts", params={"fields": "id"})
    assert reply.status_code == 500
    assert reply.json()["code"] == "INTERNAL_ERROR"


async def test_a_down_system_answers_503_until_it_is_back(
    emulator: ZohoEmulator, client: httpx.AsyncClient
) -> None:
    emulator.controls.update({"down": True})
    down = await client.get("/crm/v8/Accounts", params={"fields": "id"})
    emulator.controls.reset()
    back = await client.get("/crm/v8/Accounts", params={"fields": "id"})
    assert down.status_code == 503
    assert back.status_code == 204


async def test_fault_knobs_can_come_from_settings(store: ZohoStore) -> None:
    emulator = ZohoEmulator(store, ZohoSettings(error_rate=1.0))
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        reply = await client.post("/oauth/v2/token")
    assert reply.status_code == 500


async def test_requests_are_counted_by_route_with_ids_replaced(
    emulator: ZohoEmulator, store: ZohoStore, client: httpx.AsyncClient
) -> None:
    [a] = seed_accounts(store, 1)
    await client.get(f"/crm/v8/Accounts/{a}")
    await client.get("/crm/v8/Accounts/1234567890123456789")
    await client.get("/crm/v8/Accounts/search", params={"word": "Account"})
    routes = emulator.stats.snapshot()["routes"]
    assert routes == {
        "POST /oauth/v2/token": 1,
        "GET /crm/v8/Accounts/{id}": 2,
        "GET /crm/v8/Accounts/search": 1,
    }


def test_route_names_keep_the_module_and_the_action() -> None:
    assert classify("POST", "/crm/v8/Sales_Orders/upsert") == "POST /crm/v8/Sales_Orders/upsert"
    assert classify("PUT", "/crm/v8/Sales_Orders") == "PUT /crm/v8/Sales_Orders"


async def test_the_admin_endpoint_is_off_unless_enabled(client: httpx.AsyncClient) -> None:
    assert (await client.get("/_emulator/stats")).status_code == 404


async def test_the_admin_endpoint_reports_counts_when_enabled(store: ZohoStore) -> None:
    emulator = ZohoEmulator(store, ZohoSettings(admin_enabled=True))
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        await token_for(client)
        stats = (await client.get("/_emulator/stats")).json()
    assert stats == {"total": 1, "routes": {"POST /oauth/v2/token": 1}}


async def test_records_and_counters_persist_across_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "zoho.sqlite3"
    first = ZohoStore(path)
    [acme] = seed_accounts(first, 1)
    [order_id] = first.insert(
        "Sales_Orders", [{"Subject": "S", "Account_Name": {"id": acme, "name": "A"}}]
    )
    first.close()
    again = ZohoStore(path)
    emulator = ZohoEmulator(again)
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        client.headers["Authorization"] = f"Zoho-oauthtoken {await token_for(client)}"
        reply = await client.post(
            "/crm/v8/Sales_Orders", json={"data": [{"Subject": "T", "Account_Name": {"id": acme}}]}
        )
        new_id = reply.json()["data"][0]["details"]["id"]
        [old, new] = (
            await client.get(
                "/crm/v8/Sales_Orders", params={"fields": "SO_Number", "sort_order": "asc"}
            )
        ).json()["data"]
    again.close()
    assert old["id"] == order_id
    assert int(new_id) > int(order_id)
    assert (old["SO_Number"], new["SO_Number"]) == ("SO-000001", "SO-000002")


def test_seeding_2000_orders_with_lines_and_200_accounts_commits_per_batch(
    store: ZohoStore,
) -> None:
    """What keeps seeding fast, counted instead of timed: one transaction per insert call."""
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    accounts = seed_accounts(store, 200)
    lines = [{"Product_Name": {"id": "1", "name": "p"}, "Quantity": 1, "List_Price": 1}] * 5
    store.insert(
        "Sales_Orders",
        [
            {
                "Subject": f"O{i}",
                "Account_Name": {"id": accounts[i % 200], "name": "a"},
                "External_Ref": f"ref-{i}",
                "Ordered_Items": [dict(line) for line in lines],
            }
            for i in range(2000)
        ],
    )
    store._db.set_trace_callback(None)
    assert sum(sql.lstrip().upper().startswith("COMMIT") for sql in statements) <= 2
