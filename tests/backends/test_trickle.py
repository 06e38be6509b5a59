"""The trickle knob: an emulation sends its reply a few bytes at a time, intact."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from backends.controls import Controls
from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore

LOGGED_USER = "/api/method/frappe.auth.get_logged_user"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"trickle_ms": -1}, "trickle_ms must be a number in [0, 60000]"),  # a negative sleep
        ({"trickle_ms": "fast"}, "trickle_ms must be a number"),
        ({"trickle_bytes": 0}, "trickle_bytes must be an integer in [1, 1048576]"),  # no progress
        ({"trickle_bytes": 1.5}, "trickle_bytes must be an integer"),
    ],
)
def test_bad_trickle_knobs_are_refused(values: dict[str, Any], message: str) -> None:
    controls = Controls()
    with pytest.raises(ValueError, match=re.escape(message)):
        controls.update(values)
    assert controls.as_dict() == Controls().as_dict()


async def body_chunks(app: Any, path: str) -> list[bytes]:
    """The body messages an ASGI app sends for GET `path` (a real call, recorded)."""
    sent: list[dict[str, Any]] = []
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": [], "http_version": "1.1", "scheme": "http",
             "server": ("erp.test", 80), "client": ("127.0.0.1", 1), "root_path": ""}  # fmt: skip
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays until the reply is complete
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            sent.append(message)

    await app(scope, receive, send)
    return [m["body"] for m in sent if m["body"]]


async def test_a_trickled_reply_comes_in_small_chunks_and_reads_back_whole() -> None:
    store = ErpStore(":memory:")
    emulator = ErpEmulator(store, ErpSettings())
    whole = b"".join(await body_chunks(emulator.app, LOGGED_USER))
    emulator.controls.update({"trickle_ms": 1, "trickle_bytes": 4})
    chunks = await body_chunks(emulator.app, LOGGED_USER)
    store.close()

    assert b"".join(chunks) == whole
    assert len(chunks) == -(-len(whole) // 4)
    assert max(map(len, chunks)) == 4


async def test_the_zoho_emulation_trickles_too() -> None:
    store = ZohoStore(":memory:")
    emulator = ZohoEmulator(store, ZohoSettings())
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://zoho.test") as client:
        plain = await client.get("/crm/v8/Accounts", params={"fields": "Account_Name"})
        emulator.controls.update({"trickle_ms": 1, "trickle_bytes": 8})
        trickled = await client.get("/crm/v8/Accounts", params={"fields": "Account_Name"})
    store.close()
    assert (trickled.status_code, trickled.content) == (plain.status_code, plain.content)
    assert len(plain.content) > 8  # so it did come in several chunks
