from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from tests.support.erpnext_emulation import AUTH, seed


@pytest.fixture
def store() -> Iterator[ErpStore]:
    s = ErpStore(":memory:")
    seed(s)
    yield s
    s.close()


@pytest.fixture
def emulator(store: ErpStore) -> ErpEmulator:
    return ErpEmulator(store, ErpSettings())


@pytest.fixture
async def client(emulator: ErpEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://erp.test", headers=AUTH
    ) as c:
        yield c
