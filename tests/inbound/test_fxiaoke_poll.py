"""The Fxiaoke catch-up poll (gateway.inbound.fxiaoke_poll): Fxiaoke has no notifications.

Over the Fxiaoke emulation (real HTTP through ASGI) with the emulation's clock frozen, so
many records share one `last_modified_time` millisecond: each is read exactly once across
page boundaries and passes; a pass stopped by the daily quota resumes where it stopped; the
per-interface limiter shapes the poll instead of meeting 14001; the watermark lives in the
sync inbox; an edit made through the Fxiaoke API reaches ERPNext through the gateway's own
poll schedule; CRM notification settings are refused with a message saying why.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends.fxiaoke.app import FxiaokeEmulator
from backends.fxiaoke.store import FxStore
from gateway.cli.demo import demo_running
from gateway.inbound.fxiaoke_poll import FxiaokePoll, Position
from gateway.settings import SettingsError, parse_settings
from gateway.settings.sync import SyncSettings
from resolvers.errors import BackendUnavailable
from resolvers.fxiaoke import FxiaokeCRM
from resolvers.sync.runtime import SyncRuntime
from resolvers.sync.watermarks import Watermarks
from tests.inbound.conftest import SpySink, Stack, asgi_client, inbound_settings, notifying_stack
from tests.support.crm_users import crm_user
from tests.support.fxiaoke_emulation import (
    FXIAOKE_UNLIMITED,
    FXIAOKE_URL,
    ClockedSleep,
    FakeClock,
    fxiaoke_options,
)

SAME_MS = 250  # records sharing one millisecond: more than two pages of 100


@dataclass
class Tenant:
    """A Fxiaoke emulation with a frozen clock, its connector, and a poll over a spy sink."""

    emulator: FxiaokeEmulator
    clock: FakeClock
    api: httpx.AsyncClient
    crm: FxiaokeCRM
    sink: SpySink
    marks: Watermarks

    def poll(self, **settings: Any) -> FxiaokePoll:
        values = {"poll_overlap_s": 0.0, "poll_from": "now", **settings}
        return FxiaokePoll(inbound_settings(**values), self.sink, self.marks, self.crm.wire)

    def queries(self) -> int:
        return int(self.emulator.stats.snapshot()["routes"].get("POST /cgi/crm/v2/data/query", 0))


async def tenant_with(
    clock: FakeClock, wall: FakeClock | None = None, **options: Any
) -> AsyncIterator[Tenant]:
    emulator = FxiaokeEmulator(FxStore(":memory:"), FXIAOKE_UNLIMITED, clock=clock)
    async with asgi_client(emulator.app, FXIAOKE_URL) as client:
        crm = FxiaokeCRM(
            client,
            fxiaoke_options(**options),
            sleep=ClockedSleep(clock),
            clock=clock,
            wall=wall or clock,
        )
        async with asgi_client(emulator.app, FXIAOKE_URL) as api:
            yield Tenant(emulator, clock, api, crm, SpySink(), Watermarks(":memory:"))


@pytest.fixture
async def tenant() -> AsyncIterator[Tenant]:
    async for opened in tenant_with(FakeClock(time.time())):
        yield opened


async def create_accounts(tenant: Tenant, names: list[str]) -> list[str]:
    """Accounts created through the API at the emulation's (frozen) clock: one millisecond."""
    user = await crm_user("fxiaoke", tenant.api)
    ids = []
    for name in names:
        data = {"object_data": {"dataObjectApiName": "AccountObj", "name": name}}
        reply = await user.caller.call("/cgi/crm/v2/data/create", data)
        assert reply["errorCode"] == 0, reply
        ids.append(reply["dataId"])
    return ids


def read_ids(sink: SpySink) -> list[str]:
    return [c.record_id for c in sink.changes if c.entity == "account"]


async def test_records_sharing_a_millisecond_across_pages_are_read_once(tenant: Tenant) -> None:
    poll = tenant.poll()
    await poll.poll_once()  # a new installation: from now on
    tenant.clock.advance(1)
    same = await create_accounts(tenant, [f"Same Millisecond {i}" for i in range(SAME_MS)])
    tenant.clock.advance(0.001)
    later = await create_accounts(tenant, ["One Millisecond Later"])
    counts = await poll.poll_once()
    assert counts["crm:AccountObj"] == SAME_MS + 1
    assert read_ids(tenant.sink) == [*sorted(same), *later]  # none lost, none twice, in order
    versions = {c.version for c in tenant.sink.changes if c.record_id in same}
    assert len(versions) == 1  # they really share one last_modified_time
    mark = Position.parse(await tenant.marks.watermark("crm:AccountObj") or "")
    assert mark.after == later[0]
    # more records at the very millisecond the watermark stopped at, and nothing else new
    tenant.sink.changes.clear()
    also = await create_accounts(tenant, ["Same Millisecond As The Mark"])
    await poll.poll_once()
    assert read_ids(tenant.sink) == also


async def test_a_pass_stopped_by_the_daily_quota_resumes_where_it_stopped() -> None:
    clock, wall = FakeClock(time.time()), FakeClock(time.time())
    async for tenant in tenant_with(clock, wall, daily_quota=2):
        poll = tenant.poll()
        await poll.poll_once()
        clock.advance(1)
        same = await create_accounts(tenant, [f"Quota Day {i}" for i in range(SAME_MS)])
        with pytest.raises(BackendUnavailable, match="daily API quota"):
            await poll.poll_once()  # two pages of 100 fit in today's quota; not a third
        first_day = read_ids(tenant.sink)
        assert 0 < len(first_day) < SAME_MS
        wall.advance(86_400)  # the next day (and a bigger pack: the other objects fit too)
        tenant.crm.limiter.daily_quota = 1000
        await poll.poll_once()
        assert read_ids(tenant.sink) == sorted(same)  # the rest, and nothing twice


async def test_the_interface_limit_shapes_the_poll_instead_of_meeting_14001() -> None:
    clock = FakeClock(time.time())
    async for tenant in tenant_with(clock, calls_per_interface=2, interface_window_s=20.0):
        poll = tenant.poll()
        await poll.poll_once()
        clock.advance(1)
        same = await create_accounts(tenant, [f"Limited {i}" for i in range(SAME_MS)])
        await poll.poll_once()
        assert read_ids(tenant.sink) == sorted(same)
        assert tenant.crm.limiter.waited_s >= 20.0  # it waited for the window to open


async def test_a_poll_from_the_beginning_reads_every_record_once(tenant: Tenant) -> None:
    ids = await create_accounts(tenant, [f"Existing {i}" for i in range(120)])
    counts = await tenant.poll(poll_from="beginning").poll_once()
    assert counts["crm:AccountObj"] == 120
    assert sorted(read_ids(tenant.sink)) == sorted(ids)
    assert {c.operation for c in tenant.sink.changes} == {"insert"}


async def test_the_overlap_reads_again_what_the_inbox_already_holds(tenant: Tenant) -> None:
    poll = tenant.poll(poll_overlap_s=60.0)
    await poll.poll_once()
    tenant.clock.advance(1)
    await create_accounts(tenant, ["Overlapped"])
    await poll.poll_once()
    await poll.poll_once()  # within the overlap: read again (the inbox keeps one per version)
    assert len(read_ids(tenant.sink)) == 2
    assert len({(c.record_id, c.version) for c in tenant.sink.changes}) == 1


# -- in the gateway ------------------------------------------------------------------------


@pytest.fixture
async def synced(tmp_path: Path) -> AsyncIterator[Stack]:
    sync = SyncSettings(enabled=True, inbox_path=str(tmp_path / "sync.sqlite"), idle_s=0.05)
    async with notifying_stack(
        tmp_path, sink=None, sync=sync, crm_kind="fxiaoke", poll_interval_s=0.1
    ) as stack:
        yield stack


async def test_an_edit_in_fxiaoke_reaches_erpnext_by_the_gateways_own_poll(synced: Stack) -> None:
    stack = synced
    sync: SyncRuntime = stack.app.state.sync
    [account] = await stack.crm_user.ids("account", 1)
    customer = await sync.processor.ctx.scm.find_customer(account)
    assert customer is not None
    async with asyncio.timeout(30):  # the first pass only sets the watermark ("now")
        while True:
            if await sync.inbox.watermark("crm:AccountObj") is not None:
                break
            await asyncio.sleep(0.02)
    city = "Potsdam Fxiaoke"
    await stack.crm_user.set_city(account, city)
    async with asyncio.timeout(30):  # the poll (every 0.1 s), the inbox, rule 1, ERPNext
        while True:
            addresses = await sync.processor.ctx.scm.customer_addresses(customer.name)
            if any(a.address.city == city for a in addresses.values()):
                break
            await asyncio.sleep(0.05)
    status = await sync.inbox.status()
    assert "crm:AccountObj" in status.watermarks  # in the inbox, beside the changes
    assert stack.app.state.inbound.receivers.routes()[0].path == "/hooks/erpnext"


async def test_the_crm_hook_is_absent_and_registration_says_why(synced: Stack) -> None:
    async with asgi_client(synced.app, "http://gateway.test") as client:
        assert (await client.post("/hooks/zoho", json={})).status_code == 404
    registrar = synced.inbound.registrar
    assert registrar is not None
    report = await registrar.ensure()
    assert report.ok
    assert "crm Fxiaoke change notifications: not applicable" in report.lines()[0]
    assert sum(1 for line in report.lines() if line.startswith("erp ")) == 13


FX_CRM = {
    "kind": "fxiaoke",
    "base_url": FXIAOKE_URL,
    "app_id": "FSAID_x",
    "app_secret": "s",
    "permanent_code": "p",
    "open_user_id": "FSUID_x",
}
BASE = {
    "crm": FX_CRM,
    "scm": {"base_url": "http://erp.test", "api_key": "k", "api_secret": "s"},
    "auth": {"hs256_secret": "x" * 48},
}
SECRET = {"CROSSDOCK_INBOUND_ERPNEXT_SECRET": "s" * 32}
ON = {"enabled": True, "public_url": "https://gw.example.com"}


def test_a_disabled_inbound_section_may_keep_its_zoho_keys() -> None:
    """crossdock.example.toml's [inbound] (off, with a zoho_channel_id) under kind fxiaoke."""
    inbound = {"enabled": False, "zoho_channel_id": "1000000068001"}
    assert parse_settings({**BASE, "inbound": inbound}, {}).inbound.enabled is False


def test_with_fxiaoke_notifications_mean_erpnext_only() -> None:
    settings = parse_settings({**BASE, "inbound": ON}, SECRET)
    assert settings.inbound.enabled
    assert settings.inbound.zoho_token == ""


@pytest.mark.parametrize(
    ("inbound", "env", "words"),
    [
        ({**ON, "zoho_token": "t" * 24}, SECRET, "inbound.zoho_token configure CRM change"),
        (ON, {**SECRET, "CROSSDOCK_INBOUND_ZOHO_TOKEN": "t" * 24}, "has no change notifications"),
        ({**ON, "zoho_channel_id": "1"}, SECRET, "remove them"),
        ({**ON, "poll_interval_s": 0}, SECRET, "the catch-up poll is the only way"),
    ],
)
def test_crm_notification_settings_are_refused_for_fxiaoke(
    inbound: dict[str, Any], env: dict[str, str], words: str
) -> None:
    with pytest.raises(SettingsError, match=words):
        parse_settings({**BASE, "inbound": inbound}, env)


async def test_the_fxiaoke_demo_carries_an_edit_to_erpnext(tmp_path: Path) -> None:
    """`crossdock demo --crm fxiaoke` over real sockets: its settings turn inbound and sync
    on (the poll being Fxiaoke's path); an account edited through the Fxiaoke emulation's API
    reaches the ERPNext customer's address (the poll made faster here: no need to wait 5 s)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}

    def faster(settings: Any) -> Any:
        assert settings.inbound.enabled
        assert settings.sync.enabled
        inbound = dataclasses.replace(settings.inbound, poll_interval_s=0.2)
        return dataclasses.replace(settings, inbound=inbound)

    async with demo_running(
        data_dir=tmp_path,
        scale=0.02,
        env=env,
        port=0,
        emulation_ports=(0, 0),
        crm="fxiaoke",
        adjust=faster,
    ) as demo:
        api = httpx.AsyncClient(base_url=demo.emulations.crm_url, timeout=20)
        erp = httpx.AsyncClient(base_url=demo.emulations.erp_url, timeout=20)
        e = demo.emulations.erp
        erp.headers["Authorization"] = f"token {e.api_key}:{e.api_secret}"
        user = await crm_user("fxiaoke", api)
        [account] = await user.ids("account", 1)
        filters = json.dumps([["custom_crm_account_id", "=", account]])
        found = await erp.get("/api/resource/Customer", params={"filters": filters})
        [customer] = found.json()["data"]
        inbox = demo.app.state.sync.inbox  # type: ignore[union-attr]
        async with asyncio.timeout(30):  # the first pass sets the watermark ("now")
            while True:
                if await inbox.watermark("crm:AccountObj") is not None:
                    break
                await asyncio.sleep(0.02)
        city = f"Potsdam-{tmp_path.name[-6:]}"
        await user.set_city(account, city)
        async with asyncio.timeout(30):
            while True:  # the poll, the inbox, rule 1, ERPNext
                if city in await cities(erp, customer["name"]):
                    break
                await asyncio.sleep(0.05)
        assert "polled every" in demo.banner
        await api.aclose()
        await erp.aclose()


async def cities(erp: httpx.AsyncClient, customer: str) -> set[str]:
    reply = await erp.get(
        "/api/resource/Address",
        params={
            "fields": json.dumps(["city"]),
            "filters": json.dumps([["Dynamic Link", "link_name", "=", customer]]),
        },
    )
    return {a["city"] for a in reply.json()["data"]}


def test_a_position_orders_as_its_text() -> None:
    positions = [Position(5, ""), Position(5, "65f0a1" + "0" * 18), Position(6, "")]
    texts = [p.text() for p in positions]
    assert sorted(texts) == texts
    assert [Position.parse(t) for t in texts] == positions
