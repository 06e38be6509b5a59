"""The late-write knob: a held request is committed after its hold, whatever the client did."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.serve import serving

AUTH = {"Authorization": "token crossdock-demo:crossdock-demo-secret"}
WAREHOUSE = {"warehouse_name": "Late", "company": "Acme Corp"}


@pytest.fixture
def emulator() -> ErpEmulator:
    store = ErpStore(":memory:")
    store.insert("Company", [{"name": "Acme Corp", "company_name": "Acme Corp", "abbr": "AC",
                              "default_currency": "USD"}])  # fmt: skip
    return ErpEmulator(store, ErpSettings(admin_enabled=True))


def warehouses(emulator: ErpEmulator) -> list[str]:
    return [str(r["name"]) for r in emulator.store.query("SELECT name FROM tabWarehouse")]


async def test_a_held_write_lands_after_the_client_timed_out_over_a_socket(
    emulator: ErpEmulator,
) -> None:
    late = emulator.controls.hold("POST", r"^/api/resource/Warehouse$", hold_ms=300)
    async with (
        serving(emulator.app, "127.0.0.1", 0, timeout_graceful_shutdown=1) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=AUTH) as client,
    ):
        # only the read times out: a connect slowed by a loaded machine is not the point
        timeout = httpx.Timeout(5.0, read=0.05)
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/api/resource/Warehouse", json=WAREHOUSE, timeout=timeout)
        assert warehouses(emulator) == []  # not yet: the write is held
        await late.landed(1)
        assert warehouses(emulator) == ["Late - AC"]
        # only the first matching request is held: the next one is served at once
        again = await client.post(
            "/api/resource/Warehouse", json={**WAREHOUSE, "warehouse_name": "Now"}, timeout=5
        )
    assert again.status_code == 200
    assert (late.seen, late.held, late.committed) == (2, 1, 1)


async def test_a_cancelled_request_does_not_cancel_the_commit(emulator: ErpEmulator) -> None:
    late = emulator.controls.hold("POST", "Warehouse", hold_ms=300)
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp", headers=AUTH) as c:
        request = asyncio.ensure_future(c.post("/api/resource/Warehouse", json=WAREHOUSE))
        await asyncio.sleep(0.01)
        request.cancel()  # the client hangs up while the write is held
        with pytest.raises(asyncio.CancelledError):
            await request
        await late.landed(1)
    assert warehouses(emulator) == ["Late - AC"]


async def test_a_held_write_is_answered_when_the_client_waits(emulator: ErpEmulator) -> None:
    emulator.controls.hold("POST", "Warehouse", hold_ms=10)
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp", headers=AUTH) as c:
        reply = await c.post("/api/resource/Warehouse", json=WAREHOUSE)
    assert reply.status_code == 200
    assert reply.json()["data"]["name"] == "Late - AC"


async def test_held_writes_are_set_over_the_admin_endpoint_and_bad_ones_refused(
    emulator: ErpEmulator,
) -> None:
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp") as client:
        added = await client.post(
            "/_emulator/held", json={"method": "put", "path": "Sales Order/", "hold_ms": 300}
        )
        bad = [
            await client.post("/_emulator/held", json=body)
            for body in (
                {"method": "PUT", "path": "(", "hold_ms": 1},
                {"method": "PUT", "path": "x", "hold_ms": 1e9},
                {"method": "PUT", "path": "x", "hold_ms": 1, "count": 0},
                {"method": "PUT"},
            )
        ]
    assert added.json()["held"][0] == {
        "method": "PUT", "path": "Sales Order/", "hold_ms": 300.0, "skip": 0, "count": 1,
        "seen": 0, "held": 0, "committed": 0,
    }  # fmt: skip
    assert [r.status_code for r in bad] == [400, 400, 400, 400]
    assert len(emulator.controls.held_writes()) == 1
    emulator.controls.reset()
    assert emulator.controls.held_writes() == []


async def test_a_held_request_commits_at_once_when_released(emulator: ErpEmulator) -> None:
    late = emulator.controls.hold("POST", "Warehouse", hold_ms=60_000)
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp", headers=AUTH) as c:
        request = asyncio.ensure_future(c.post("/api/resource/Warehouse", json=WAREHOUSE))
        with pytest.raises(TimeoutError):  # held (for a minute, unless released)
            await asyncio.wait_for(asyncio.shield(request), 0.05)
        assert warehouses(emulator) == []
        late.release()
        reply = await request
    assert reply.status_code == 200
    assert warehouses(emulator) == ["Late - AC"]
