"""Fixtures for changes in: a spy sink, settings with [inbound] on, the gateway with receivers.

The gateway is the production app (`gateway.wiring.assemble`) over the seeded emulations;
the sink is a spy that records every change put (the real inbox belongs to `[sync]`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.fxiaoke.app import FxiaokeEmulator
from backends.fxiaoke.seed import seed_fxiaoke
from backends.fxiaoke.store import FxStore
from backends.seed import seed
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from gateway.inbound.service import Inbound
from gateway.settings import Settings
from gateway.settings.inbound import InboundSettings
from gateway.settings.sync import SyncSettings
from gateway.wiring import assemble
from resolvers.breaker import Protection
from resolvers.erpnext import ERPNext
from resolvers.fxiaoke import FxiaokeCRM
from resolvers.ports import CrmPort
from resolvers.sync.change import Change
from resolvers.zoho import ZohoCRM
from tests.support.crm_users import CrmUser, crm_user
from tests.support.fxiaoke_emulation import (
    FXIAOKE_UNLIMITED,
    FXIAOKE_URL,
    fxiaoke_gateway_options,
)
from tests.support.stack import ERP_URL, GATEWAY_URL, ZOHO_URL, gateway_settings, no_sleep

ZOHO_TOKEN = "zoho-callback-token-0123456789"
ERP_SECRET = "erpnext-webhook-secret-0123456789abcdef"
CHANNEL = "1000000068001"


class SpySink:
    """Records every change; `fail` makes `put` raise (an inbox that is down)."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.fail = False

    async def put(self, change: Change) -> bool:
        if self.fail:
            raise OSError("the inbox file is gone")
        self.changes.append(change)
        return True


def inbound_settings(**overrides: Any) -> InboundSettings:
    values: dict[str, Any] = {
        "enabled": True,
        "public_url": GATEWAY_URL,
        "zoho_channel_id": CHANNEL,
        "zoho_token": ZOHO_TOKEN,
        "erpnext_secret": ERP_SECRET,
        "poll_interval_s": 0.0,
        "register_interval_s": 0,
    }
    values.update(overrides)
    return InboundSettings(**values)


@pytest.fixture
def sink() -> SpySink:
    return SpySink()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    base = gateway_settings(tmp_path)
    watermarks = str(tmp_path / "watermarks.sqlite")
    return dataclasses.replace(base, inbound=inbound_settings(watermarks_path=watermarks))


@pytest.fixture
async def gateway_app(
    settings: Settings, crm: ZohoCRM, scm: ERPNext, sink: SpySink
) -> AsyncIterator[Starlette]:
    app = assemble(settings, crm=crm, scm=scm, change_sink=sink)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def hooks(gateway_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous client of the gateway, as a backend calling its hooks is."""
    transport = httpx.ASGITransport(app=gateway_app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as client:
        yield client


async def eventually(check: Callable[[], bool], *, within_s: float = 10.0) -> None:
    """Wait until `check()` holds (polled), failing after `within_s` seconds."""
    deadline = asyncio.get_running_loop().time() + within_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not true after {within_s} s: {check}")
        await asyncio.sleep(0.01)


@dataclass
class Stack:
    """Private seeded emulations that notify a gateway over HTTP (ASGI), with API clients.

    `zoho` is the CRM emulation: a ZohoEmulator, or a FxiaokeEmulator (which notifies
    nothing) when the stack was opened with crm_kind="fxiaoke"."""

    zoho: Any
    erp: ErpEmulator
    app: Starlette
    sink: SpySink
    crm_api: httpx.AsyncClient  # the CRM's API as a CRM user calls it
    erp_api: httpx.AsyncClient  # the ERPNext API as an ERP user calls it
    crm_user: CrmUser  # edits through crm_api, in the CRM's dialect
    crm_kind: str = "zoho"

    @property
    def inbound(self) -> Inbound:
        inbound: Inbound = self.app.state.inbound
        return inbound

    async def registered(self) -> None:
        await eventually(lambda: self.inbound.last_report is not None)

    async def delivered(self) -> None:
        """Every notification the emulations queued so far has been handled."""
        outbox = getattr(self.zoho, "outbox", None)  # Fxiaoke notifies nothing
        if outbox is not None:
            await outbox.drain()
        await self.erp.outbox.drain()


@pytest.fixture
async def stack(tmp_path: Path, sink: SpySink, crm_kind: str) -> AsyncIterator[Stack]:
    async with notifying_stack(tmp_path, sink=sink, crm_kind=crm_kind) as opened:
        yield opened


@contextlib.asynccontextmanager
async def notifying_stack(
    tmp_path: Path,
    *,
    sink: SpySink | None,
    sync: SyncSettings | None = None,
    crm_kind: str = "zoho",
    **inbound: Any,
) -> AsyncIterator[Stack]:
    """Seeded emulations notifying a gateway; changes go to `sink`, else to `[sync]`. With
    crm_kind="fxiaoke" the CRM is the Fxiaoke emulation (the same seed), heard by polling.
    `inbound` overrides the `[inbound]` settings (e.g. poll_interval_s)."""
    erp_store = ErpStore(":memory:")
    base = gateway_settings(tmp_path)
    watermarks = str(tmp_path / "watermarks.sqlite")
    settings = dataclasses.replace(
        base,
        inbound=inbound_settings(watermarks_path=watermarks, **inbound),
        sync=sync or base.sync,
    )
    async with contextlib.AsyncExitStack() as stack:
        late = LateApp()
        crm_emulator, crm_url = _crm_emulation(crm_kind, erp_store, late)
        erp = ErpEmulator(
            erp_store, ErpSettings(webhook_backoff_scale=0), notify_client=late.client()
        )
        if hasattr(crm_emulator, "aclose"):
            stack.push_async_callback(crm_emulator.aclose)
        stack.push_async_callback(erp.aclose)
        crm_http = await stack.enter_async_context(asgi_client(crm_emulator.app, crm_url))
        erp_http = await stack.enter_async_context(asgi_client(erp.app, ERP_URL))
        crm: CrmPort
        if crm_kind == "fxiaoke":
            # a short circuit-breaker cooldown: the fault tests need not wait 5 s to recover
            options = dataclasses.replace(
                fxiaoke_gateway_options(), protection=Protection(cooldown_s=0.05)
            )
            settings = dataclasses.replace(settings, crm=options)
            crm = FxiaokeCRM(crm_http, options, sleep=no_sleep)
        else:
            crm = ZohoCRM(crm_http, settings.crm, sleep=no_sleep)  # type: ignore[arg-type]
        scm = ERPNext(erp_http, settings.scm, sleep=no_sleep)
        app = assemble(settings, crm=crm, scm=scm, change_sink=sink)
        late.app = app
        await stack.enter_async_context(app.router.lifespan_context(app))
        crm_api = await stack.enter_async_context(asgi_client(crm_emulator.app, crm_url))
        user = await crm_user(crm_kind, crm_api)
        erp_api = await stack.enter_async_context(asgi_client(erp.app, ERP_URL))
        erp_api.headers["Authorization"] = "token crossdock-demo:crossdock-demo-secret"
        yield Stack(crm_emulator, erp, app, sink or SpySink(), crm_api, erp_api, user, crm_kind)


def _crm_emulation(kind: str, erp_store: ErpStore, late: LateApp) -> tuple[Any, str]:
    """The seeded CRM emulation (seeding its ERP too) and its base URL."""
    if kind == "fxiaoke":
        fx_store = FxStore(":memory:")
        seed_fxiaoke(fx_store, erp_store, scale=0.02, random_seed=7)
        return FxiaokeEmulator(fx_store, FXIAOKE_UNLIMITED), FXIAOKE_URL
    zoho_store = ZohoStore(":memory:")
    seed(zoho_store, erp_store, scale=0.02, random_seed=7)
    return ZohoEmulator(zoho_store, ZohoSettings(), notify_client=late.client()), ZOHO_URL


class LateApp:
    """An ASGI app bound after the clients that call it are made (the gateway is built after
    the emulations that notify it)."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "the gateway is not built yet"
        await self.app(scope, receive, send)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self))


def asgi_client(app: ASGIApp, base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)
