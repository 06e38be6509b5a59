"""Fixtures: the real emulations in-process, small data sets, connectors wired to them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.support.connectors import (
    ERP_TODAY,
    ERP_URL,
    ZOHO_URL,
    RecordingTransport,
    SleepSpy,
    erp_options,
    zoho_options,
)


@pytest.fixture
def zoho_store() -> Iterator[ZohoStore]:
    store = ZohoStore(":memory:")
    yield store
    store.close()


@pytest.fixture
def zoho_emulator(zoho_store: ZohoStore) -> ZohoEmulator:
    return ZohoEmulator(zoho_store, ZohoSettings())


@pytest.fixture
def sleep() -> SleepSpy:
    return SleepSpy()


@pytest.fixture
def zoho_wire(zoho_emulator: ZohoEmulator) -> RecordingTransport:
    return RecordingTransport(httpx.ASGITransport(app=zoho_emulator.app))


@pytest.fixture
async def zoho_client(zoho_wire: RecordingTransport) -> AsyncIterator[httpx.AsyncClient]:
    transport = zoho_wire
    async with httpx.AsyncClient(transport=transport, base_url=ZOHO_URL) as client:
        yield client


@pytest.fixture
def crm(zoho_client: httpx.AsyncClient, sleep: SleepSpy) -> ZohoCRM:
    return ZohoCRM(zoho_client, zoho_options(), sleep=sleep)


@pytest.fixture
def erp_store() -> Iterator[ErpStore]:
    store = ErpStore(":memory:", clock=lambda: ERP_TODAY)
    store.insert("Company", [{"name": "Acme Corp", "abbr": "AC", "default_currency": "USD"}])
    store.insert(
        "Warehouse",
        [
            {
                "name": "All Warehouses - AC",
                "warehouse_name": "All Warehouses",
                "company": "Acme Corp",
                "is_group": 1,
            },
            {
                "name": "Stores - AC",
                "warehouse_name": "Stores",
                "company": "Acme Corp",
                "is_group": 0,
                "parent_warehouse": "All Warehouses - AC",
            },
            {
                "name": "Berlin Hub - AC",
                "warehouse_name": "Berlin Hub",
                "company": "Acme Corp",
                "is_group": 0,
                "parent_warehouse": "All Warehouses - AC",
            },
        ],
    )
    yield store
    store.close()


@pytest.fixture
def erp_emulator(erp_store: ErpStore) -> ErpEmulator:
    return ErpEmulator(erp_store, ErpSettings())


@pytest.fixture
def erp_wire(erp_emulator: ErpEmulator) -> RecordingTransport:
    return RecordingTransport(httpx.ASGITransport(app=erp_emulator.app))


@pytest.fixture
async def erp_client(erp_wire: RecordingTransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=erp_wire, base_url=ERP_URL) as client:
        yield client


@pytest.fixture
def scm(erp_client: httpx.AsyncClient, sleep: SleepSpy) -> ERPNext:
    return ERPNext(erp_client, erp_options(), sleep=sleep)
