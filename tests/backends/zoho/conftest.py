from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from tests.support.zoho_emulation import BASE_URL, token_for


@pytest.fixture
def store() -> Iterator[ZohoStore]:
    store = ZohoStore(":memory:")
    yield store
    store.close()


@pytest.fixture
def emulator(store: ZohoStore) -> ZohoEmulator:
    return ZohoEmulator(store, ZohoSettings())


@pytest.fixture
async def anonymous(emulator: ZohoEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
async def client(anonymous: httpx.AsyncClient) -> httpx.AsyncClient:
    token = await token_for(anonymous)
    anonymous.headers["Authorization"] = f"Zoho-oauthtoken {token}"
    return anonymous
