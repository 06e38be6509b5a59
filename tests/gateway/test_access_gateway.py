"""Access control on the production gateway over both emulations, counted at the backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from gateway.settings import Settings
from tests.support.stack import gateway_settings, token_for


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The policy's "null" mode: denied fields run as null with FORBIDDEN (the default,
    "hide", refuses them at validation: tests/gateway/test_access_hidden.py)."""
    return gateway_settings(tmp_path, policy={"mode": "null"})


@pytest.fixture
async def client(gateway_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous client to the production gateway (conftest.gateway_app)."""
    transport = httpx.ASGITransport(app=gateway_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as c:
        yield c


async def _post(
    client: httpx.AsyncClient, query: str, role: str, partner: str | None = None
) -> Any:
    token = token_for(role, partner_id=partner)
    response = await client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_denied_root_field_sends_no_request_to_the_crm(
    client: httpx.AsyncClient, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    crm_emulator.stats.reset()
    body = await _post(client, "{ customers { nodes { name email } } }", "partner", "DHL")
    assert body["data"] == {"customers": None}
    assert body["errors"][0]["extensions"] == {
        "code": "FORBIDDEN",
        "requiredScopes": [["crm:read"]],
    }
    assert crm_emulator.stats.total == 0
    assert scm_emulator.stats.total == 0


async def test_a_partner_sees_only_its_carrier_and_another_carriers_id_looks_missing(
    client: httpx.AsyncClient,
) -> None:
    everything = await _post(client, "{ shipments(first: 100) { nodes { id carrier } } }", "admin")
    nodes = everything["data"]["shipments"]["nodes"]
    carriers = sorted({n["carrier"] for n in nodes if n["carrier"]})
    assert len(carriers) >= 2, carriers
    mine, theirs = carriers[0], carriers[1]
    other_id = next(n["id"] for n in nodes if n["carrier"] == theirs)

    own = await _post(client, "{ shipments(first: 100) { nodes { carrier } } }", "partner", mine)
    assert {n["carrier"] for n in own["data"]["shipments"]["nodes"]} == {mine}
    query = '{ shipment(id: "%s") { id carrier } }'
    foreign = await _post(client, query % other_id, "partner", mine)
    missing = await _post(client, query % "SHIP-DOES-NOT-EXIST", "partner", mine)
    assert foreign == missing == {"data": {"shipment": None}}


async def test_the_analyst_gets_a_masked_email_from_the_real_schema(
    client: httpx.AsyncClient,
) -> None:
    body = await _post(client, "{ customers(first: 3) { nodes { email phone } } }", "analyst")
    emails = [n["email"] for n in body["data"]["customers"]["nodes"] if n["email"]]
    assert emails
    assert all("***@" in e for e in emails)
    assert all(n["phone"] is None for n in body["data"]["customers"]["nodes"])


async def test_a_request_without_a_token_is_answered_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ viewer { subject } }"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
