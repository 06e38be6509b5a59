"""Subscriptions through the reference npm clients of both protocols: `graphql-ws`
(graphql-transport-ws) and `graphql-sse` (distinct connections mode).

`subscribe.mjs` (dependencies pinned in package.json / package-lock.json next to it, installed
with `npm ci` on first use) subscribes as a DHL partner to `shipmentChanged`; the test
publishes a UPS change then a DHL change on the gateway's bus once the subscription listens,
and the client must print the DHL shipment first: the partner never hears of the UPS one.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.applications import Starlette

from backends.erpnext.app import ErpEmulator
from backends.serve import serving
from gateway.server import protocol_options
from gateway.settings.server import ServerSettings
from resolvers.sync import Change, ChangeBus
from tests.support.npm import node_with
from tests.support.stack import token_for

HERE = Path(__file__).parent
DEADLINE_S = 60.0
QUERY = "subscription { shipmentChanged { id carrier status } }"

pytestmark = pytest.mark.sockets


@pytest.fixture(scope="session")
def client_script() -> Path:
    """subscribe.mjs with its pinned clients installed; skips only without node and npm."""
    node_with(HERE, "graphql-sse", "run the graphql-ws / graphql-sse clients")
    return HERE / "subscribe.mjs"


@pytest.fixture
async def gateway_port(gateway_app: Starlette) -> AsyncIterator[int]:
    options = protocol_options(ServerSettings())
    async with serving(gateway_app, "127.0.0.1", 0, timeout_graceful_shutdown=1, **options) as port:
        yield port


def first_of(scm_emulator: ErpEmulator, carrier: str) -> str:
    rows = scm_emulator.store.query(
        "SELECT name FROM tabShipment WHERE docstatus = 1 AND carrier = ? ORDER BY name LIMIT 1",
        (carrier,),
    )
    return str(rows[0]["name"])


def shipment_change(name: str) -> Change:
    return Change("erp", "shipment", name, "update", "notification", datetime.now(UTC))


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@pytest.mark.parametrize(("mode", "scheme"), [("ws", "ws"), ("sse", "http")])
async def test_a_partner_hears_only_its_carrier_through_the_reference_clients(
    client_script: Path,
    gateway_app: Starlette,
    gateway_port: int,
    scm_emulator: ErpEmulator,
    mode: str,
    scheme: str,
) -> None:
    bus: ChangeBus = gateway_app.state.change_bus
    ups, dhl = first_of(scm_emulator, "UPS"), first_of(scm_emulator, "DHL")
    url = f"{scheme}://127.0.0.1:{gateway_port}/graphql"
    process = await asyncio.create_subprocess_exec(
        "node",
        str(client_script),
        mode,
        url,
        QUERY,
        "1",
        cwd=client_script.parent,
        env={**os.environ, "CROSSDOCK_TOKEN": token_for("partner", partner_id="DHL")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await until(lambda: bus.subscribers == 1 or process.returncode is not None, "listening")
        bus.publish(shipment_change(ups))
        bus.publish(shipment_change(dhl))
        stdout, stderr = await asyncio.wait_for(process.communicate(), DEADLINE_S)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    events = [json.loads(line) for line in stdout.decode().splitlines()]
    assert len(events) == 1, events
    assert "error" not in events[0], events
    shipment = events[0]["data"]["shipmentChanged"]
    assert (shipment["id"], shipment["carrier"]) == (dhl, "DHL")
