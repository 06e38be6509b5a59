"""Both emulations over a private copy of the seeded data, connectors, and a reconciler.

The seed runs once per session into a template directory; each test gets its own copy of
the two SQLite files, so tests may plant disagreements through the emulations' own APIs
(the connectors' wire) and repair them without affecting each other.

    async def test_x(rig: Rig) -> None:
        await rig.scm.wire.update("Item", "SKU-00001", {"item_name": "Other"})
        found = await rig.findings({Category.DRIFT})
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.seed import seed
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from resolvers.erpnext import ERPNext
from resolvers.reconcile import Category, Finding, Reconciler
from resolvers.reconcile.engine import ProcessReader
from resolvers.zoho import ZohoCRM
from tests.conftest import ERP_URL, SEED_SCALE, ZOHO_URL, gateway_settings, no_sleep

STORES = ("zoho.sqlite3", "erp.sqlite3")
# Reads never change data; these are the requests that do not write.
_READS = ("GET ", "POST /oauth/v2/token", "POST /api/method/frappe.client.get_list")


@pytest.fixture(scope="session")
def seed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root: Path = tmp_path_factory.mktemp("reconcile-seed")
    zoho, erp = ZohoStore(root / STORES[0]), ErpStore(root / STORES[1])
    seed(zoho, erp, scale=SEED_SCALE, random_seed=7)
    zoho.close()
    erp.close()
    return root


@dataclass
class Rig:
    """The two emulations (their stores and request counters) and our connectors to them."""

    zoho: ZohoEmulator
    erp: ErpEmulator
    crm: ZohoCRM
    scm: ERPNext
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def reconciler(self, *, processes: ProcessReader | None = None, **options: Any) -> Reconciler:
        clock = lambda: self.now  # noqa: E731
        return Reconciler(self.crm, self.scm, processes=processes, clock=clock, **options)

    async def findings(
        self, categories: Collection[Category] | None = None, **options: Any
    ) -> list[Finding]:
        return [f async for f in self.reconciler(**options).run(categories)]

    def writes(self) -> int:
        """Requests that may change data, served by both emulations so far."""
        routes = [*self.zoho.stats.routes.items(), *self.erp.stats.routes.items()]
        return sum(n for route, n in routes if not route.startswith(_READS))

    async def zoho_call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A Zoho CRM API call with the connector's token (`path` under /crm/v8)."""
        return await self.crm.wire.call(method, path, **kwargs)

    def later(self, delta: timedelta) -> None:
        self.now += delta


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
    yield Rig(zoho, erp, crm, scm, clients=[zclient, eclient])
    await zclient.aclose()
    await eclient.aclose()
    zstore.close()
    estore.close()
