"""Crossdock inside a supergraph, with the real tools: its subgraph SDL (read from
`_service { sdl }` as a composer reads it) composes with `@apollo/composition` and
`@theguild/federation-composition` together with a second subgraph that adds a field to
`Order` and points at Crossdock's `Shipment`; Apollo Gateway, started over the composed
supergraph, answers queries that cross both, with the caller's token forwarded.

The npm tools are pinned in package.json / package-lock.json beside this file and installed
with `npm ci` on first use; the tests skip only without node and npm.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from strawberry.asgi import GraphQL
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

from backends.erpnext.app import ErpEmulator
from backends.serve import serving
from backends.zoho.app import ZohoEmulator
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from schema.federation import FEDERATION_VERSION
from tests.support.npm import node_with
from tests.support.stack import gateway_settings, token_for

HERE = Path(__file__).parent
DEADLINE_S = 60.0

pytestmark = pytest.mark.sockets

# -- the other team's subgraph: a note on Crossdock's orders, and shipments it flags ------------

FLAGGED: list[str] = []  # shipment names the second subgraph returns (set by each test)


@strawberry.federation.type(keys=["id"])
class Order:
    id: strawberry.ID

    @strawberry.field(description="Another team's field on Crossdock's Order.")
    def risk_note(self) -> str:
        return f"reviewed:{self.id}"

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Order:
        return cls(id=id)


@strawberry.type(directives=[Key(fields=FieldSet("id"), resolvable=False)])
class Shipment:
    id: strawberry.ID


@strawberry.type
class Query:
    @strawberry.field(description="Shipments this team flagged, resolved by Crossdock.")
    def flagged_shipments(self) -> list[Shipment | None]:
        return [Shipment(id=strawberry.ID(name)) for name in FLAGGED]


RISK = strawberry.federation.Schema(query=Query, types=[Order], federation_version="2.9")


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def node() -> str:
    """node, with the pinned composers and Apollo Gateway installed beside this file."""
    return node_with(HERE, "@apollo/gateway", "run the federation composers and Apollo Gateway")


@pytest.fixture
async def crossdock_url(tmp_path: Path, crm: ZohoCRM, scm: ERPNext) -> AsyncIterator[str]:
    app: Starlette = assemble(gateway_settings(tmp_path, federation=True), crm=crm, scm=scm)
    async with app.router.lifespan_context(app), serving(app, "127.0.0.1", 0) as port:
        yield f"http://127.0.0.1:{port}/graphql"


@pytest.fixture
async def risk_url() -> AsyncIterator[str]:
    async with serving(GraphQL(RISK), "127.0.0.1", 0) as port:
        yield f"http://127.0.0.1:{port}/graphql"


async def run(node: str, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        node, *args, cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), DEADLINE_S)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def subgraph_sdl(url: str) -> str:
    """The SDL as a composer fetches it: `_service { sdl }` with the router's token."""
    headers = {"Authorization": f"Bearer {token_for('router')}"}
    async with httpx.AsyncClient(headers=headers) as client:
        answer = await client.post(url, json={"query": "{ _service { sdl } }"})
    answer.raise_for_status()
    sdl: str = answer.json()["data"]["_service"]["sdl"]
    return sdl


async def compose(node: str, tmp_path: Path, crossdock_url: str, risk_url: str) -> Path:
    services = [
        {"name": "crossdock", "url": crossdock_url, "sdl": await subgraph_sdl(crossdock_url)},
        {"name": "risk", "url": risk_url, "sdl": RISK.as_str()},
    ]
    listing, supergraph = tmp_path / "services.json", tmp_path / "supergraph.graphql"
    listing.write_text(json.dumps(services))
    report = json.loads(await run(node, "compose.mjs", str(listing), str(supergraph)))
    assert report == {"apollo": [], "guild": []}, report
    return supergraph


@asynccontextmanager
async def router(node: str, supergraph: Path) -> AsyncIterator[str]:
    process = await asyncio.create_subprocess_exec(
        node, "router.mjs", str(supergraph), cwd=HERE, stdout=subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), DEADLINE_S)
        assert line.startswith(b"READY "), line
        yield line.decode().split()[1]
    finally:
        process.terminate()
        await process.wait()


async def through(url: str, token: str, query: str) -> dict[str, Any]:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        answer = await client.post(url, json={"query": query}, timeout=DEADLINE_S)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def first_of(scm_emulator: ErpEmulator, carrier: str) -> str:
    rows = scm_emulator.store.query(
        "SELECT name FROM tabShipment WHERE docstatus = 1 AND carrier = ? ORDER BY name LIMIT 1",
        (carrier,),
    )
    return str(rows[0]["name"])


# -- tests -------------------------------------------------------------------------------------


async def test_the_subgraph_composes_with_both_composers_at_its_version(
    node: str, tmp_path: Path, crossdock_url: str, risk_url: str
) -> None:
    supergraph = (await compose(node, tmp_path, crossdock_url, risk_url)).read_text()
    assert 'join__graph(name: "crossdock"' in supergraph
    assert "riskNote: String!" in supergraph
    assert FEDERATION_VERSION == "2.9"


async def test_a_query_crossing_both_subgraphs_through_apollo_gateway(
    node: str,
    tmp_path: Path,
    crossdock_url: str,
    risk_url: str,
    crm_emulator: ZohoEmulator,
    scm_emulator: ErpEmulator,
) -> None:
    supergraph = await compose(node, tmp_path, crossdock_url, risk_url)
    shipment = first_of(scm_emulator, "DHL")
    FLAGGED[:] = [shipment]
    async with router(node, supergraph) as url:
        token = token_for("admin")
        listed = await through(url, token, "{ orders(first: 5) { nodes { id } } }")
        ids = [n["id"] for n in listed["data"]["orders"]["nodes"]]
        crm_emulator.stats.reset()
        scm_emulator.stats.reset()
        body = await through(
            url,
            token,
            "{ orders(first: 5) { nodes { id number shipments { status } riskNote } } "
            "flaggedShipments { id carrier order { number riskNote } } }",
        )
    assert "errors" not in body, body["errors"]
    orders = body["data"]["orders"]["nodes"]
    assert [o["id"] for o in orders] == ids
    assert all(o["riskNote"] == f"reviewed:{o['id']}" for o in orders)
    (flagged,) = body["data"]["flaggedShipments"]
    assert flagged["id"] == shipment
    assert flagged["carrier"] == "DHL"
    assert flagged["order"]["riskNote"].startswith("reviewed:")
    # the orders page is one Sales_Orders call; the flagged shipment's order one more by id
    assert crm_emulator.stats.snapshot()["routes"].get("GET /crm/v8/Sales_Orders", 0) <= 2


async def test_a_partner_through_the_router_sees_only_its_carrier(
    node: str, tmp_path: Path, crossdock_url: str, risk_url: str, scm_emulator: ErpEmulator
) -> None:
    supergraph = await compose(node, tmp_path, crossdock_url, risk_url)
    dhl, ups = first_of(scm_emulator, "DHL"), first_of(scm_emulator, "UPS")
    FLAGGED[:] = [dhl, ups]
    async with router(node, supergraph) as url:
        body = await through(
            url,
            token_for("partner", partner_id="DHL"),
            "{ flaggedShipments { id carrier status } }",
        )
    assert body.get("data") is not None, body
    mine, theirs = body["data"]["flaggedShipments"]
    assert mine["id"] == dhl
    assert mine["carrier"] == "DHL"
    assert theirs is None  # Crossdock answered null for the UPS one: the router nulls it
