from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from backends.erpnext.store import ErpStore
from backends.fxiaoke.app import FxiaokeEmulator, FxiaokeSettings
from backends.fxiaoke.seed import seed_fxiaoke
from backends.fxiaoke.store import FxStore
from resolvers.fxiaoke import FxiaokeCRM, FxiaokeOptions
from tests.support.fxiaoke_emulation import (
    FXIAOKE_URL,
    ClockedSleep,
    FakeClock,
    FxCaller,
    fxiaoke_options,
    legacy_auth,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> Iterator[FxStore]:
    """A small seeded tenant per test (writes change it): 10 accounts, 10 products, 100 orders."""
    store, erp = FxStore(":memory:"), ErpStore(":memory:")
    seed_fxiaoke(store, erp, scale=0.05, random_seed=7)
    yield store
    store.close()
    erp.close()


@pytest.fixture
def settings() -> FxiaokeSettings:
    return FxiaokeSettings()


@pytest.fixture
def emulator(store: FxStore, settings: FxiaokeSettings, clock: FakeClock) -> FxiaokeEmulator:
    return FxiaokeEmulator(store, settings, clock=clock)


@pytest.fixture
async def anonymous(emulator: FxiaokeEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=FXIAOKE_URL) as client:
        yield client


@pytest.fixture
async def fx(anonymous: httpx.AsyncClient) -> FxCaller:
    return FxCaller(anonymous, await legacy_auth(anonymous))


@pytest.fixture
def sleep(clock: FakeClock) -> ClockedSleep:
    return ClockedSleep(clock)


@pytest.fixture(params=["legacy_body", "header"])
def options(request: pytest.FixtureRequest) -> FxiaokeOptions:
    """The connector's options, once per generation of Fxiaoke auth ([crm] auth): every
    connector test runs with the token in the body and with the Bearer headers."""
    if request.param == "header":
        return fxiaoke_options(auth="header", user_id=FxiaokeSettings().employee_id)
    return fxiaoke_options()


@pytest.fixture
async def crm(
    emulator: FxiaokeEmulator, options: FxiaokeOptions, clock: FakeClock, sleep: ClockedSleep
) -> AsyncIterator[FxiaokeCRM]:
    """The connector over the emulation; both share one fake clock, moved by the sleeps."""
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=FXIAOKE_URL) as client:
        yield FxiaokeCRM(client, options, sleep=sleep, clock=clock, wall=clock)
