"""Fixtures of the reconciliation tests: both emulations over a private copy of the seeded
data, connectors, and a reconciler (`rig`; tests.support.reconcile.Rig).

The seed runs once per session into a template directory; each test gets its own copy of
the two SQLite files, so tests may plant disagreements through the emulations' own APIs
(the connectors' wire) and repair them without affecting each other.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.seed import seed
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from resolvers.erpnext import ERPNext
from resolvers.reconcile.store import ReconcileStore
from resolvers.saga import Sealer
from resolvers.zoho import ZohoCRM
from tests.support.reconcile import STORES, Rig
from tests.support.stack import (
    ERP_URL,
    JOURNAL_KEY,
    SEED_SCALE,
    ZOHO_URL,
    gateway_settings,
    no_sleep,
)


@pytest.fixture(scope="session")
def seed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root: Path = tmp_path_factory.mktemp("reconcile-seed")
    zoho, erp = ZohoStore(root / STORES[0]), ErpStore(root / STORES[1])
    seed(zoho, erp, scale=SEED_SCALE, random_seed=7)
    zoho.close()
    erp.close()
    return root


@pytest.fixture
async def rig(seed_template: Path, tmp_path: Path) -> AsyncIterator[Rig]:
    for name in STORES:
        shutil.copy(seed_template / name, tmp_path / name)
    zstore, estore = ZohoStore(tmp_path / STORES[0]), ErpStore(tmp_path / STORES[1])
    zoho, erp = ZohoEmulator(zstore, ZohoSettings()), ErpEmulator(estore, ErpSettings())
    settings = gateway_settings()
    zclient = httpx.AsyncClient(transport=httpx.ASGITransport(app=zoho.app), base_url=ZOHO_URL)
    eclient = httpx.AsyncClient(transport=httpx.ASGITransport(app=erp.app), base_url=ERP_URL)
    crm = ZohoCRM(zclient, settings.crm, sleep=no_sleep)
    scm = ERPNext(eclient, settings.scm, sleep=no_sleep)
    store = ReconcileStore(tmp_path / "reconcile.sqlite", Sealer.from_base64(JOURNAL_KEY))
    yield Rig(zoho, erp, crm, scm, store, clients=[zclient, eclient])
    store.close()
    await zclient.aclose()
    await eclient.aclose()
    zstore.close()
    estore.close()
