"""Both emulations, for writes that land after the client gave up on them.

The gateway's connectors have a short read timeout (`READ_S`); a write held by the emulation's
late-write knob (`controls.hold`, `HOLD_MS`) times out at the client and is committed later,
whatever the client did. A second pair of connectors with patient timeouts reads back for the
invariant check, which also reads both emulation stores directly.

`late_systems(tmp_path, sockets=True)` serves the emulations on loopback sockets (real client
timeouts and hang-ups; ~1 s to start and stop); without, they run in-process behind
`TimedASGITransport`, which enforces the read timeout the way a socket transport does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.serve import serving
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from resolvers.breaker import Protection
from resolvers.erpnext import ERPNext, ERPNextOptions
from resolvers.http import RetryPolicy, Timeouts
from resolvers.saga import ApprovalRules, Journal, OrderProcessService, ProcessStatus, Sealer
from resolvers.saga.outcomes import Patience
from resolvers.saga.process import StepHook
from resolvers.zoho import ZohoCRM, ZohoOptions
from tests.saga.faults import FaultInjector
from tests.support.saga import FAST_RETRY, Systems, _erp_data, _zoho_data

READ_S = 0.15  # the gateway's read timeout in these tests
HOLD_MS = 400  # a held write lands this long after it arrived, well after READ_S
# One try per write and per undo step: each held write is the only one, whose late landing
# the case is about (retries are tested in test_fault_injection and the 13.2 scenario).
ONE_TRY = RetryPolicy(attempts=1)
LATE = Patience(settle_s=0.05, poll_s=0.01, undo_attempts=1)
_PATIENT = Timeouts(connect=5.0, read=10.0)
# The held writes' timeouts would open the circuit; the breaker is not what these tests test.
_NO_BREAKER = Protection(enabled=False)


@dataclass
class Late:
    """`systems` reads back patiently (invariants); `service()` is a gateway with short timeouts."""

    systems: Systems
    crm: ZohoCRM
    scm: ERPNext

    @property
    def zoho(self) -> ZohoEmulator:
        return self.systems.zoho

    @property
    def erp(self) -> ErpEmulator:
        erp: ErpEmulator = self.systems.erp
        return erp

    def service(
        self,
        *,
        step_hook: StepHook | None = None,
        patience: Patience = LATE,
        rules: ApprovalRules | None = None,
    ) -> OrderProcessService:
        """A gateway over the shared journal (a new one is a restart)."""
        journal = Journal(self.systems.journal_path, Sealer.from_base64(self.systems.key))
        self.systems.journals.append(journal)
        return OrderProcessService(
            self.crm, self.scm, journal, rules or ApprovalRules(), step_hook=step_hook,
            patience=patience,
        )  # fmt: skip

    def mirrors(self, crm_order_id: str) -> list[tuple[str, int]]:
        """The ERP Sales Orders of one CRM order, read from the ERP store."""
        rows = self.erp.store.query(
            'SELECT name, docstatus FROM "tabSales Order" WHERE custom_crm_order_id = ?',
            (crm_order_id,),
        )
        return [(str(r["name"]), int(r["docstatus"])) for r in rows]

    def reserved(self) -> dict[tuple[str, str], Decimal]:
        rows = self.erp.store.query("SELECT item_code, warehouse, reserved_qty FROM tabBin")
        return {(r["item_code"], r["warehouse"]): Decimal(str(r["reserved_qty"])) for r in rows}

    async def violations(
        self, process_ids: list[str], before: dict[Any, Decimal], *, settled: bool = True
    ) -> list[str]:
        """The invariants, read from both systems, plus: each process agrees with them.

        Not `settled` (a late write just landed, the resolver has not run): a draft mirror is
        tolerated, as it reserves nothing; the resolver must then delete it."""
        problems = await self.systems.violations()
        service = self.service()
        for pid in process_ids:
            view = await service.get_process(pid)
            assert view is not None
            order = self._crm_order(view.order_id)
            problems += self._agreement(view.status, order, before, settled)
        return problems

    def _crm_order(self, order_id: str | None) -> dict[str, Any] | None:
        orders = [o for o in self.systems.crm_orders() if str(o["id"]) == order_id]
        return orders[0] if orders else None

    def _agreement(
        self,
        status: ProcessStatus,
        order: dict[str, Any] | None,
        before: dict[Any, Decimal],
        settled: bool,
    ) -> list[str]:
        crm_status = None if order is None else order.get("Status")
        live = [m for m in self.mirrors(str(order["id"])) if m[1] != 2] if order else []
        if not settled and status is not ProcessStatus.APPROVED:
            live = [m for m in live if m[1] == 1]
        where = f"process {status.value}: CRM {crm_status}, ERP {live}"
        if status in (ProcessStatus.FAILED, ProcessStatus.CANCELLED):
            ok = crm_status in (None, "Cancelled") and not live and self.reserved() == before
        elif status is ProcessStatus.PENDING_APPROVAL:
            ok = crm_status == "Pending Approval" and not live and self.reserved() == before
        elif status is ProcessStatus.APPROVED:
            ok = crm_status == "Approved" and [d for _, d in live] == [1]
        else:
            ok = status is ProcessStatus.NEEDS_ATTENTION  # visible; checked once resolved
        return [] if ok else [f"the systems disagree with the {where}"]


class TimedASGITransport(httpx.ASGITransport):
    """In-process transport that gives up after the request's read timeout, as a socket does:
    the caller gets ReadTimeout and the app's task is cancelled (a held write still lands)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        read = (request.extensions.get("timeout") or {}).get("read")
        try:
            async with asyncio.timeout(read):
                return await super().handle_async_request(request)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out (in-process)", request=request) from None


@contextlib.asynccontextmanager
async def late_systems(
    tmp_path: Path, *, sockets: bool = False, retry: RetryPolicy = ONE_TRY
) -> AsyncIterator[Late]:
    zstore, estore = ZohoStore(tmp_path / "zoho.sqlite3"), ErpStore(tmp_path / "erp.sqlite3")
    accounts = _zoho_data(zstore)
    _erp_data(estore)
    zoho = ZohoEmulator(zstore, ZohoSettings())
    erp = ErpEmulator(estore, ErpSettings())
    crm_faults, scm_faults = FaultInjector(zoho.app), FaultInjector(erp.app)
    async with (
        _bases(crm_faults, scm_faults, sockets) as (zbase, ebase),
        _connectors(zbase, ebase, _PATIENT, FAST_RETRY) as (crm, scm),
        _connectors(zbase, ebase, Timeouts(connect=5.0, read=READ_S), retry) as (
            fast_crm,
            fast_scm,
        ),
    ):
        systems = Systems(
            zoho, erp, crm, scm, crm_faults, scm_faults, tmp_path / "journal.sqlite",
            Sealer.generate_key(), accounts,
        )  # fmt: skip
        try:
            yield Late(systems, fast_crm, fast_scm)
        finally:
            for journal in systems.journals:
                journal.close()
    zstore.close()
    estore.close()


Base = tuple[str, httpx.AsyncBaseTransport | None]


@contextlib.asynccontextmanager
async def _bases(zoho: ASGIApp, erp: ASGIApp, sockets: bool) -> AsyncIterator[tuple[Base, Base]]:
    """Where each emulation is reached: a loopback URL, or an in-process transport."""
    if not sockets:
        yield (
            ("http://zoho.test", TimedASGITransport(app=zoho)),
            ("http://erp.test", TimedASGITransport(app=erp)),
        )
        return
    async with (
        serving(zoho, "127.0.0.1", 0, timeout_graceful_shutdown=1) as zport,
        serving(erp, "127.0.0.1", 0, timeout_graceful_shutdown=1) as eport,
    ):
        yield (f"http://127.0.0.1:{zport}", None), (f"http://127.0.0.1:{eport}", None)


@contextlib.asynccontextmanager
async def _connectors(
    zbase: Base, ebase: Base, timeouts: Timeouts, retry: RetryPolicy
) -> AsyncIterator[tuple[ZohoCRM, ERPNext]]:
    (zurl, ztransport), (eurl, etransport) = zbase, ebase
    async with (
        httpx.AsyncClient(transport=ztransport) as zclient,
        httpx.AsyncClient(transport=etransport) as eclient,
    ):
        crm = ZohoCRM(zclient, ZohoOptions(
            accounts_url=zurl, api_domain=zurl, client_id="crossdock-demo",
            client_secret="crossdock-demo-secret", refresh_token="crossdock-demo-refresh",
            retry=retry, timeouts=timeouts, protection=_NO_BREAKER,
        ))  # fmt: skip
        scm = ERPNext(eclient, ERPNextOptions(
            base_url=eurl, api_key="crossdock-demo", api_secret="crossdock-demo-secret",
            retry=retry, timeouts=timeouts, protection=_NO_BREAKER,
        ))  # fmt: skip
        yield crm, scm
