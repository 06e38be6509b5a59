"""Fixtures for changes in: a spy sink, settings with [inbound] on, the gateway with receivers.

The gateway is the production app (`gateway.wiring.assemble`) over the seeded emulations;
the sink is a spy that records every change put (the real inbox belongs to `[sync]`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.settings import Settings
from gateway.settings.inbound import InboundSettings
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.sync.change import Change
from resolvers.zoho import ZohoCRM
from tests.support.stack import GATEWAY_URL, gateway_settings

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
