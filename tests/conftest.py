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
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.fxiaoke.app import FxiaokeEmulator
from backends.fxiaoke.seed import seed_fxiaoke
from backends.fxiaoke.store import FxStore
from backends.seed import seed
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from gateway.settings import Settings
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.fxiaoke import FxiaokeCRM
from resolvers.ports import CrmPort
from resolvers.state.config import StateSettings
from resolvers.zoho import ZohoCRM, ZohoOptions
from tests.support.engines import PostgresServer, RedisServer, missing
from tests.support.fxiaoke_emulation import (
    FXIAOKE_UNLIMITED,
    FXIAOKE_URL,
    FxSeededStores,
    fxiaoke_gateway_options,
)
from tests.support.sockets import OVER_SOCKETS, over_sockets
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

# The suites that run over both CRMs (issue #18): the graph, the access rules, the order
# process, the views, reconciliation. Their tests get `crm_kind` = "zoho" and "fxiaoke"
# (at the fixtures below, so the tests themselves are not copied); every other test runs
# over Zoho only.
BOTH_CRMS = (
    "tests/schema/",
    "tests/gateway/test_access_",
    "tests/saga/",
    "tests/views/",
    "tests/reconcile/",
    "tests/bench/test_bench_smoke.py",
    "tests/inbound/test_converge.py",
    "tests/sync/test_rules.py",
)
# Tests of those suites that stay Zoho-only, and why (node id prefix -> reason).
_ZOHO_ROUTES = "counts calls by Zoho route (Fxiaoke's: tests/fxiaoke_graph/test_fxiaoke_calls)"
ZOHO_ONLY: dict[str, str] = {
    "tests/schema/test_batching.py": _ZOHO_ROUTES,
    "tests/schema/test_held_by_parent.py": _ZOHO_ROUTES,
    "tests/schema/test_pagination.py::test_walking_by_end_cursor": _ZOHO_ROUTES,
    "tests/schema/test_root_fields.py::test_customers_search_is_pushed": _ZOHO_ROUTES,
    "tests/schema/test_root_fields.py::test_orders_filtered_by_status": _ZOHO_ROUTES,
    "tests/schema/test_root_fields.py::test_customer_by_id_has_canonical": "reads a Zoho record",
    "tests/views/test_bi_clients.py::test_pandas_default_inference": "Zoho's ids are 19 digits",
    "tests/views/test_csv_injection.py": "plants its formula names in a Zoho store of its own",
    "tests/views/test_incremental.py::test_the_watermark_returns": _ZOHO_ROUTES,
    "tests/views/test_shared_reference_data.py::test_customers_products_and_stock": _ZOHO_ROUTES,
    "tests/views/test_streaming.py::test_first_rows_are_sent": _ZOHO_ROUTES,
    "tests/schema/test_prefetching.py::test_stock_and_warehouses_load_alongside_the_catalog": (
        "over Fxiaoke the lines hold their catalog products, so no catalog call overlaps "
        "(tests/fxiaoke_graph/test_fxiaoke_calls.py)"
    ),
    "tests/sync/test_rules.py::test_a_second_edit_within_the_same_second": "freezes Zoho's"
    " clock to stamp two edits with one second; Fxiaoke's versions are milliseconds",
    "tests/reconcile/test_shipments.py::test_calls_grow_with_pages": "bounds Zoho's calls per page"
    " (2 per 200 orders); Fxiaoke also pages the orders' lines, 100 at a time",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "crm_kind" not in metafunc.fixturenames:
        return
    node = metafunc.definition.nodeid
    if node.startswith(BOTH_CRMS) and not any(node.startswith(k) for k in ZOHO_ONLY):
        metafunc.parametrize("crm_kind", ["zoho", "fxiaoke"], indirect=True, scope="session")


@pytest.fixture(scope="session")
def crm_kind(request: pytest.FixtureRequest) -> str:
    """The CRM under the test: "zoho", or "fxiaoke" for the suites in BOTH_CRMS."""
    kind: str = getattr(request, "param", "zoho")
    return kind


@pytest.fixture(scope="session")
def seeded_stores(tmp_path_factory: pytest.TempPathFactory) -> SeededStores:
    root: Path = tmp_path_factory.mktemp("seeded")
    stores = SeededStores(ZohoStore(root / "zoho.sqlite3"), ErpStore(root / "erp.sqlite3"))
    seed(stores.zoho, stores.erp, scale=SEED_SCALE, random_seed=7)
    return stores


@pytest.fixture(scope="session")
def fxiaoke_stores(tmp_path_factory: pytest.TempPathFactory) -> FxSeededStores:
    """The same seed in a Fxiaoke tenant, with its own ERP (the crosswalks carry its ids)."""
    root: Path = tmp_path_factory.mktemp("seeded-fxiaoke")
    stores = FxSeededStores(FxStore(root / "fxiaoke.sqlite3"), ErpStore(root / "erp.sqlite3"))
    seed_fxiaoke(stores.fx, stores.erp, scale=SEED_SCALE, random_seed=7)
    return stores


@pytest.fixture
def crm_emulator(crm_kind: str, request: pytest.FixtureRequest) -> Any:
    """The CRM emulation: a ZohoEmulator, or a FxiaokeEmulator when crm_kind is fxiaoke."""
    if crm_kind == "fxiaoke":
        return FxiaokeEmulator(request.getfixturevalue("fxiaoke_stores").fx, FXIAOKE_UNLIMITED)
    return ZohoEmulator(request.getfixturevalue("seeded_stores").zoho, ZohoSettings())


@pytest.fixture
def scm_emulator(crm_kind: str, request: pytest.FixtureRequest) -> ErpEmulator:
    stores = request.getfixturevalue("fxiaoke_stores" if crm_kind == "fxiaoke" else "seeded_stores")
    return ErpEmulator(stores.erp, ErpSettings())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return gateway_settings(tmp_path)


@pytest.fixture
async def crm(crm_emulator: Any, settings: Settings, crm_kind: str) -> AsyncIterator[CrmPort]:
    """The CRM connector built from settings as production builds it, over the emulation
    (for Fxiaoke: from the `[crm] kind = "fxiaoke"` section of the test settings)."""
    if OVER_SOCKETS:  # the production client over real sockets (tests/support/sockets.py)
        async with over_sockets(crm_emulator.app) as (url, fast):
            if crm_kind == "fxiaoke":
                options = replace(fxiaoke_gateway_options(), base_url=url)
                yield FxiaokeCRM(fast, options, sleep=no_sleep)
            else:
                assert isinstance(settings.crm, ZohoOptions)
                zoho = replace(settings.crm, accounts_url=url, api_domain=url)
                yield ZohoCRM(fast, zoho, sleep=no_sleep)
        return
    transport = httpx.ASGITransport(app=crm_emulator.app)
    if crm_kind == "fxiaoke":
        async with httpx.AsyncClient(transport=transport, base_url=FXIAOKE_URL) as client:
            yield FxiaokeCRM(client, fxiaoke_gateway_options(), sleep=no_sleep)
        return
    async with httpx.AsyncClient(transport=transport, base_url=ZOHO_URL) as client:
        yield ZohoCRM(client, settings.crm, sleep=no_sleep)  # type: ignore[arg-type]


@pytest.fixture
async def scm(scm_emulator: ErpEmulator, settings: Settings) -> AsyncIterator[ERPNext]:
    """The ERPNext connector built from settings as production builds it, over the emulation."""
    if OVER_SOCKETS:
        async with over_sockets(scm_emulator.app) as (url, fast):
            yield ERPNext(fast, replace(settings.scm, base_url=url), sleep=no_sleep)
        return
    transport = httpx.ASGITransport(app=scm_emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=ERP_URL) as client:
        yield ERPNext(client, settings.scm, sleep=no_sleep)


@pytest.fixture
async def gateway_app(settings: Settings, crm: CrmPort, scm: ERPNext) -> AsyncIterator[Starlette]:
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
