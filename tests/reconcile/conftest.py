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
from typing import Any

import httpx
import pytest

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.fxiaoke.app import FxiaokeEmulator
from backends.fxiaoke.seed import seed_fxiaoke
from backends.fxiaoke.store import FxStore
from backends.seed import seed
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from resolvers.erpnext import ERPNext
from resolvers.fxiaoke import FxiaokeCRM
from resolvers.reconcile.store import ReconcileStore
from resolvers.saga import Sealer
from resolvers.zoho import ZohoCRM
from tests.support.fxiaoke_emulation import (
    FXIAOKE_UNLIMITED,
    FXIAOKE_URL,
    fxiaoke_gateway_options,
)
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


@pytest.fixture(scope="session")
def fx_seed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same seed in a Fxiaoke tenant (with its own ERP: the crosswalks carry its ids)."""
    root: Path = tmp_path_factory.mktemp("reconcile-seed-fxiaoke")
    fx, erp = FxStore(root / STORES[0]), ErpStore(root / STORES[1])
    seed_fxiaoke(fx, erp, scale=SEED_SCALE, random_seed=7)
    fx.close()
    erp.close()
    return root


@pytest.fixture
async def rig(crm_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Rig]:
    """Over Zoho, or over Fxiaoke when crm_kind is (tests/conftest.py runs both)."""
    template = "fx_seed_template" if crm_kind == "fxiaoke" else "seed_template"
    root: Path = request.getfixturevalue(template)
    for name in STORES:
        shutil.copy(root / name, tmp_path / name)
    estore = ErpStore(tmp_path / STORES[1])
    erp = ErpEmulator(estore, ErpSettings())
    settings = gateway_settings()
    crm_store: Any
    crm: Any
    if crm_kind == "fxiaoke":
        crm_store = FxStore(tmp_path / STORES[0])
        zoho: Any = FxiaokeEmulator(crm_store, FXIAOKE_UNLIMITED)
        zclient = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=zoho.app), base_url=FXIAOKE_URL
        )
        crm = FxiaokeCRM(zclient, fxiaoke_gateway_options(), sleep=no_sleep)
    else:
        crm_store = ZohoStore(tmp_path / STORES[0])
        zoho = ZohoEmulator(crm_store, ZohoSettings())
        zclient = httpx.AsyncClient(transport=httpx.ASGITransport(app=zoho.app), base_url=ZOHO_URL)
        crm = ZohoCRM(zclient, settings.crm, sleep=no_sleep)  # type: ignore[arg-type]
    eclient = httpx.AsyncClient(transport=httpx.ASGITransport(app=erp.app), base_url=ERP_URL)
    scm = ERPNext(eclient, settings.scm, sleep=no_sleep)
    zstore = crm_store
    store = ReconcileStore(tmp_path / "reconcile.sqlite", Sealer.from_base64(JOURNAL_KEY))
    yield Rig(zoho, erp, crm, scm, store, clients=[zclient, eclient])
    store.close()
    await zclient.aclose()
    await eclient.aclose()
    zstore.close()
    estore.close()
