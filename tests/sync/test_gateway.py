"""Sync in the production gateway: `[sync] enabled` runs the processor in the background,
woken by a put; `syncStatus` reports it to `sync:read` only."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from gateway.settings import Settings
from gateway.settings.sync import SyncSettings
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.sync import Change
from resolvers.sync.inbox import Backoff
from resolvers.zoho import ZohoCRM
from tests.support.stack import GATEWAY_URL, GraphQLClient, token_for

STATUS = """{ syncStatus { sources { system pending retrying dead done lagSeconds }
  failed { id key state attempts reason } watermarks { source value } } }"""


def change(entity: str, record_id: str) -> Change:
    return Change(
        system="erp",
        entity=entity,  # type: ignore[arg-type]
        record_id=record_id,
        operation="update",
        origin="notification",
        received_at=datetime.now(UTC),
    )


@pytest.fixture
async def synced_app(
    settings: Settings, crm: ZohoCRM, scm: ERPNext, tmp_path: Path
) -> AsyncIterator[Starlette]:
    sync = SyncSettings(
        enabled=True, inbox_path=str(tmp_path / "sync.sqlite"), retry=Backoff(attempts=1)
    )
    app = assemble(dataclasses.replace(settings, sync=sync), crm=crm, scm=scm)
    async with app.router.lifespan_context(app):
        yield app


def client(app: Starlette, role: str) -> GraphQLClient:
    headers = {"Authorization": f"Bearer {token_for(role)}", "x-crossdock-csrf": "1"}
    transport = httpx.ASGITransport(app=app)
    http = httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL, headers=headers)
    return GraphQLClient(http)


async def eventually(check: Callable[[], Awaitable[bool]], tries: int = 1500) -> None:
    """Poll a condition, generously (30 s at 20 ms): never a fixed sleep."""
    for _ in range(tries):
        if await check():
            return
        await asyncio.sleep(0.02)
    pytest.fail("the condition did not hold in time")


async def test_a_put_change_is_processed_in_the_background_and_published(
    synced_app: Starlette,
) -> None:
    runtime, bus = synced_app.state.sync, synced_app.state.change_bus
    async with bus.subscribe() as events:
        assert await runtime.put(change("customer", "Some Customer")) is True
        async with asyncio.timeout(30):
            event = await anext(aiter(events))
    assert (event.entity, event.record_id) == ("customer", "Some Customer")


async def test_sync_status_shows_a_dead_change_with_its_reason_to_sync_read_only(
    synced_app: Starlette, scm_emulator: object
) -> None:
    scm_emulator.controls.update({"down": True})  # type: ignore[attr-defined]
    await synced_app.state.sync.put(change("stock", "SKU-1@Stores - AC"))
    admin = client(synced_app, "admin")

    async def dead() -> bool:
        data = await admin.data(STATUS)
        return any(s["dead"] for s in data["syncStatus"]["sources"])

    await eventually(dead)
    data = (await admin.data(STATUS))["syncStatus"]
    erp = next(s for s in data["sources"] if s["system"] == "erp")
    assert (erp["pending"], erp["dead"], erp["lagSeconds"]) == (0, 1, 0)
    [failed] = data["failed"]
    assert (failed["key"], failed["state"]) == ("erp:stock:SKU-1@Stores - AC", "DEAD")
    assert "ERPNext" in failed["reason"]

    body = await client(synced_app, "sales").query(STATUS)
    assert "Cannot query field 'syncStatus'" in body["errors"][0]["message"]


async def test_without_sync_the_status_says_it_is_off(gql: GraphQLClient) -> None:
    body = await gql.query("{ syncStatus { failed { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "SYNC_OFF"
