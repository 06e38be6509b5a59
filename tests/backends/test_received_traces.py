"""The emulations keep the trace ids of the `traceparent`s they receive (the last N, valid
W3C version-00 headers only) and answer them at `/_emulator/traces`."""

from __future__ import annotations

import httpx

from backends.controls import ReceivedTraces
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def parent(trace_id: str) -> dict[str, str]:
    return {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}


async def test_the_zoho_emulation_keeps_and_answers_received_trace_ids() -> None:
    store = ZohoStore(":memory:")
    emulator = ZohoEmulator(store, ZohoSettings(admin_enabled=True))
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://zoho.test") as client:
        await client.get("/crm/v8/Accounts", headers=parent(TRACE))
        await client.get("/crm/v8/Accounts")  # none
        await client.get("/crm/v8/Accounts", headers={"traceparent": "garbage"})
        await client.get("/crm/v8/Accounts", headers=parent("0" * 32))  # invalid: all zeros
        answer = await client.get("/_emulator/traces")
    store.close()
    assert answer.json() == {"received": [TRACE]}
    assert emulator.traces.received == [TRACE]


def test_only_the_last_n_are_kept() -> None:
    traces = ReceivedTraces(keep=3)
    for n in range(1, 6):
        header = f"00-{n:032x}-00f067aa0ba902b7-01".encode()
        traces.record({"method": "GET", "path": "/", "headers": [(b"traceparent", header)]})
    assert traces.received == [f"{n:032x}" for n in (3, 4, 5)]
