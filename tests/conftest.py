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

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.seed import seed
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from gateway.settings import Settings
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.state.config import StateSettings
from resolvers.zoho import ZohoCRM
from tests.support.engines import PostgresServer, RedisServer, missing
from tests.support.stack import (
    ERP_URL,
    GATEWAY_URL,
    SEED_SCALE,
    ZOHO_URL,
    ClientFor,
    GraphQLClient,
    SeededStores,
    gateway_settings,
    no_sleep,
    token_for,
)


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


# Real PostgreSQL and Redis (tests.support.engines), one server of each per session, started
# only by the tests that ask for them (marker "engines"); absent engines skip those tests
# with a message saying how to install them. Each test gets a fresh database, an empty Redis.

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def engines() -> Iterator[tuple[PostgresServer, RedisServer]]:
    why = missing()
    if why is not None:
        pytest.skip(why)
    with PostgresServer.start() as pg, RedisServer.start() as redis:
        yield pg, redis


@pytest.fixture
def postgres(engines: tuple[PostgresServer, RedisServer]) -> PostgresServer:
    return engines[0]


@pytest.fixture
def redis_server(engines: tuple[PostgresServer, RedisServer]) -> RedisServer:
    engines[1].flush()
    return engines[1]


@pytest.fixture
def state_settings(postgres: PostgresServer, redis_server: RedisServer) -> StateSettings:
    """Shared state in a fresh database, short leases and lock expiries (tests wait less)."""
    url = postgres.create_database(f"t{next(_databases)}_{id(postgres) % 10_000}")
    return StateSettings(
        postgres_url=url,
        redis_url=redis_server.url,
        lease_s=3.0,
        lock_ttl_s=3.0,
        lock_wait_s=20.0,
    )
