"""Shared fixtures: both emulations in-process over small seeded data, connectors, the gateway.

Everything talks real HTTP through `httpx.ASGITransport`; nothing is patched. The seeded
stores are built once per test session (reads only); emulators, connectors and the gateway
app are fresh per test, so request counts and fault knobs never leak between tests.

    async def test_something(gql: GraphQLClient, crm_emulator: ZohoEmulator) -> None:
        body = await gql.query("{ orders(first: 5) { nodes { number } } }")
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.seed import seed
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from gateway.app import create_app
from gateway.settings import Settings, parse_settings
from resolvers.erpnext import ERPNext, ERPNextOptions
from resolvers.http import RetryPolicy, Timeouts
from resolvers.zoho import ZohoCRM, ZohoOptions

ZOHO_URL = "http://zoho.test"
ERP_URL = "http://erp.test"
GATEWAY_URL = "http://gateway.test"
# 30 accounts, 11 products, 300 orders, ~130 shipments: enough for pages of 200 orders
SEED_SCALE = 0.15


async def no_sleep(seconds: float) -> None:
    """Retries back off without waiting, so fault tests stay fast."""


@dataclass(frozen=True)
class SeededStores:
    zoho: ZohoStore
    erp: ErpStore


@pytest.fixture(scope="session")
def seeded_stores(tmp_path_factory: pytest.TempPathFactory) -> SeededStores:
    root: Path = tmp_path_factory.mktemp("seeded")
    stores = SeededStores(ZohoStore(root / "zoho.sqlite3"), ErpStore(root / "erp.sqlite3"))
    seed(stores.zoho, stores.erp, scale=SEED_SCALE, random_seed=7)
    return stores


@pytest.fixture
def crm_emulator(seeded_stores: SeededStores) -> ZohoEmulator:
    return ZohoEmulator(seeded_stores.zoho, ZohoSettings())


@pytest.fixture
def scm_emulator(seeded_stores: SeededStores) -> ErpEmulator:
    return ErpEmulator(seeded_stores.erp, ErpSettings())


def gateway_settings(**graphql: Any) -> Settings:
    return parse_settings(
        {
            "crm": {
                "accounts_url": ZOHO_URL,
                "client_id": "crossdock-demo",
                "client_secret": "crossdock-demo-secret",
                "refresh_token": "crossdock-demo-refresh",
            },
            "scm": {
                "base_url": ERP_URL,
                "api_key": "crossdock-demo",
                "api_secret": "crossdock-demo-secret",
                "read_timeout_s": 0.5,
            },
            "graphql": graphql,
        }
    )


@pytest.fixture
def settings() -> Settings:
    return gateway_settings()


@pytest.fixture
async def crm(crm_emulator: ZohoEmulator, settings: Settings) -> AsyncIterator[ZohoCRM]:
    transport = httpx.ASGITransport(app=crm_emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=ZOHO_URL) as client:
        options = ZohoOptions(
            accounts_url=ZOHO_URL,
            client_id=settings.crm.client_id,
            client_secret=settings.crm.client_secret,
            refresh_token=settings.crm.refresh_token,
            retry=RetryPolicy(attempts=2),
        )
        yield ZohoCRM(client, options, sleep=no_sleep)


@pytest.fixture
async def scm(scm_emulator: ErpEmulator, settings: Settings) -> AsyncIterator[ERPNext]:
    transport = httpx.ASGITransport(app=scm_emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=ERP_URL) as client:
        options = ERPNextOptions(
            base_url=ERP_URL,
            api_key=settings.scm.api_key,
            api_secret=settings.scm.api_secret,
            timeouts=Timeouts(connect=0.5, read=0.5),
            retry=RetryPolicy(attempts=2),
        )
        yield ERPNext(client, options, sleep=no_sleep)


@pytest.fixture
def gateway_app(settings: Settings, crm: ZohoCRM, scm: ERPNext) -> Starlette:
    return create_app(settings, crm=crm, scm=scm)


class GraphQLClient:
    """Posts GraphQL to the gateway over its HTTP surface and returns the decoded body."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client

    async def query(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """The data of a response that must have no errors."""
        body = await self.query(query, **variables)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result


@pytest.fixture
async def http(gateway_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=gateway_app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)
