"""Both emulated systems in-process, small fixture data, connectors, and a service factory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from backends.erpnext.store import ErpStore
from backends.fxiaoke.app import FxiaokeEmulator
from backends.fxiaoke.store import FxStore
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from resolvers.erpnext import ERPNext, ERPNextOptions
from resolvers.fxiaoke import FxiaokeCRM
from resolvers.saga import Sealer
from resolvers.zoho import ZohoCRM, ZohoOptions
from tests.saga.faults import FaultInjector
from tests.support.fxiaoke_emulation import (
    FXIAOKE_UNLIMITED,
    FXIAOKE_URL,
    FxiaokeFaults,
    fxiaoke_gateway_options,
)
from tests.support.saga import (
    FAST_RETRY,
    Systems,
    _erp_data,
    _fxiaoke_data,
    _zoho_data,
    erp_app,
)


@pytest.fixture
async def systems(tmp_path: Path, crm_kind: str) -> AsyncIterator[Systems]:
    if crm_kind == "fxiaoke":
        async with fxiaoke_systems(tmp_path) as found:
            yield found
        return
    zstore, estore = ZohoStore(tmp_path / "zoho.sqlite3"), ErpStore(tmp_path / "erp.sqlite3")
    accounts = _zoho_data(zstore)
    _erp_data(estore)
    zoho = ZohoEmulator(zstore, ZohoSettings())
    erp = erp_app.ErpEmulator(estore, erp_app.ErpSettings())
    crm_faults, scm_faults = FaultInjector(zoho.app), FaultInjector(erp.app)
    zclient = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=crm_faults), base_url="http://zoho.test"
    )
    eclient = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=scm_faults), base_url="http://erp.test"
    )
    crm = ZohoCRM(zclient, ZohoOptions(
        accounts_url="http://zoho.test", api_domain="http://zoho.test", client_id="crossdock-demo",
        client_secret="crossdock-demo-secret", refresh_token="crossdock-demo-refresh",
        retry=FAST_RETRY,
    ))  # fmt: skip
    scm = ERPNext(eclient, ERPNextOptions(
        base_url="http://erp.test", api_key="crossdock-demo", api_secret="crossdock-demo-secret",
        retry=FAST_RETRY,
    ))  # fmt: skip
    found = Systems(
        zoho, erp, crm, scm, crm_faults, scm_faults, tmp_path / "journal.sqlite",
        Sealer.generate_key(), accounts,
    )  # fmt: skip
    yield found
    for journal in found.journals:
        journal.close()
    await zclient.aclose()
    await eclient.aclose()
    zstore.close()
    estore.close()


@contextlib.asynccontextmanager
async def fxiaoke_systems(tmp_path: Path) -> AsyncIterator[Systems]:
    """`systems` over the Fxiaoke emulation: the same accounts, products and ERP data."""
    fstore, estore = FxStore(tmp_path / "fxiaoke.sqlite3"), ErpStore(tmp_path / "erp.sqlite3")
    accounts = _fxiaoke_data(fstore)
    _erp_data(estore)
    fx = FxiaokeEmulator(fstore, FXIAOKE_UNLIMITED)
    erp = erp_app.ErpEmulator(estore, erp_app.ErpSettings())
    crm_faults, scm_faults = FxiaokeFaults(fx.app), FaultInjector(erp.app)
    fclient = httpx.AsyncClient(transport=httpx.ASGITransport(app=crm_faults), base_url=FXIAOKE_URL)
    eclient = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=scm_faults), base_url="http://erp.test"
    )
    options = replace(fxiaoke_gateway_options(), retry=FAST_RETRY)
    crm = FxiaokeCRM(fclient, options)
    scm = ERPNext(eclient, ERPNextOptions(
        base_url="http://erp.test", api_key="crossdock-demo", api_secret="crossdock-demo-secret",
        retry=FAST_RETRY,
    ))  # fmt: skip
    found = Systems(
        fx, erp, crm, scm, crm_faults, scm_faults, tmp_path / "journal.sqlite",
        Sealer.generate_key(), accounts,
    )  # fmt: skip
    try:
        yield found
    finally:
        for journal in found.journals:
            journal.close()
        await fclient.aclose()
        await eclient.aclose()
        fstore.close()
        estore.close()
