"""Shared fixtures: both emulations in-process over small seeded data, connectors, the gateway.

Everything talks real HTTP through `httpx.ASGITransport`; nothing is patched. The seeded
stores are built once per test session (reads only); emulators, connectors and the gateway
app are fresh per test, so request counts and fault knobs never leak between tests.

The gateway is built the production way (`gateway.wiring.assemble`: bearer auth, the shipped
policy, access control, audit log and the order process over a journal in tmp_path, recovered
in the app's lifespan). `http`/`gql` carry an admin token; `client_for(role, partner_id=...)`
gives a client for any role.

    async def test_something(gql: GraphQLClient, crm_emulator: ZohoEmulator) -> None:
        body = await gql.query("{ orders(first: 5) { nodes { number } } }")

    async def test_partner(client_for: ClientFor) -> None:
        dhl = client_for("partner", partner_id="DHL")
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
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
from gateway.auth.tokens import mint
from gateway.settings import Settings, parse_settings
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM

ZOHO_URL = "http://zoho.test"
ERP_URL = "http://erp.test"
GATEWAY_URL = "http://gateway.test"
# 30 accounts, 11 products, 300 orders, ~130 shipments: enough for pages of 200 orders
SEED_SCALE = 0.15
JWT_SECRET = "crossdock-test-secret-0123456789-0123456789-abcdef"
JOURNAL_KEY = base64.b64encode(bytes(range(32))).decode()


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


def gateway_settings(
    tmp: Path | None = None, *, policy: dict[str, Any] | None = None, **graphql: Any
) -> Settings:
    """Test settings; with `tmp`, the audit log and the order journal live there."""
    state: dict[str, Any] = {"policy": {"audit_log": ""}, "saga": {"enabled": False}}
    if tmp is not None:
        state = {
            "policy": {"audit_log": str(tmp / "audit.log")},
            "saga": {"journal_path": str(tmp / "orders.sqlite"), "journal_key": JOURNAL_KEY},
        }
    state["policy"].update(policy or {})
    return parse_settings(
        {
            **state,
            "auth": {"hs256_secret": JWT_SECRET},
            "crm": {
                "accounts_url": ZOHO_URL,
                "client_id": "crossdock-demo",
                "client_secret": "crossdock-demo-secret",
                "refresh_token": "crossdock-demo-refresh",
                "retries": 1,
            },
            "scm": {
                "base_url": ERP_URL,
                "api_key": "crossdock-demo",
                "api_secret": "crossdock-demo-secret",
                "connect_timeout_s": 0.5,
                "read_timeout_s": 0.5,
                "retries": 1,
            },
            "graphql": graphql,
            # tests walk many pages quickly; tests/gateway/test_hardening_* test the limit itself
            "rate_limits": {"default": {"per_second": 10_000, "burst": 10_000}},
        }
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return gateway_settings(tmp_path)


@pytest.fixture
async def crm(crm_emulator: ZohoEmulator, settings: Settings) -> AsyncIterator[ZohoCRM]:
    """The Zoho connector built from settings as production builds it, over the emulation."""
    transport = httpx.ASGITransport(app=crm_emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=ZOHO_URL) as client:
        yield ZohoCRM(client, settings.crm, sleep=no_sleep)


@pytest.fixture
async def scm(scm_emulator: ErpEmulator, settings: Settings) -> AsyncIterator[ERPNext]:
    """The ERPNext connector built from settings as production builds it, over the emulation."""
    transport = httpx.ASGITransport(app=scm_emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=ERP_URL) as client:
        yield ERPNext(client, settings.scm, sleep=no_sleep)


@pytest.fixture
async def gateway_app(settings: Settings, crm: ZohoCRM, scm: ERPNext) -> AsyncIterator[Starlette]:
    """The production app; its lifespan (order-process recovery, shutdown) runs around the test."""
    app = assemble(settings, crm=crm, scm=scm)
    async with app.router.lifespan_context(app):
        yield app


def token_for(
    role: str | None = "admin", *, partner_id: str | None = None, scopes: tuple[str, ...] = ()
) -> str:
    """A valid test token for `role` (None: no role, only `scopes`)."""
    roles = [] if role is None else [role]
    return mint(
        JWT_SECRET, subject=f"test-{role}", roles=roles, partner_id=partner_id, scopes=scopes
    )


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


ClientFor = Callable[..., GraphQLClient]


@pytest.fixture
async def client_for(gateway_app: Starlette) -> AsyncIterator[ClientFor]:
    """`client_for("partner", partner_id="DHL")` → a GraphQLClient carrying that token."""
    transport = httpx.ASGITransport(app=gateway_app)
    opened: list[httpx.AsyncClient] = []

    def make(
        role: str | None = "admin", *, partner_id: str | None = None, scopes: tuple[str, ...] = ()
    ) -> GraphQLClient:
        token = token_for(role, partner_id=partner_id, scopes=scopes)
        client = httpx.AsyncClient(
            transport=transport,
            base_url=GATEWAY_URL,
            # as real clients do: a header that forces a CORS preflight (CSRF prevention)
            headers={"Authorization": f"Bearer {token}", "x-crossdock-csrf": "1"},
        )
        opened.append(client)
        return GraphQLClient(client)

    yield make
    for client in opened:
        await client.aclose()


@pytest.fixture
async def http(client_for: ClientFor) -> httpx.AsyncClient:
    """An HTTP client to the production gateway carrying an admin token."""
    return client_for("admin").http


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)
