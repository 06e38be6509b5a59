"""What the reconciliation tests share: `Rig`, both emulations over a private copy of the
seeded data with connectors to them and helpers to plant and count (the fixtures that build
it are in tests/reconcile/conftest.py).

    async def test_x(rig: Rig) -> None:
        await rig.scm.wire.update("Item", "SKU-00001", {"item_name": "Other"})
        found = await rig.findings({Category.DRIFT})
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from backends.erpnext.app import ErpEmulator
from backends.fxiaoke.app import FxiaokeEmulator
from backends.zoho.app import ZohoEmulator
from resolvers.erpnext import ERPNext
from resolvers.fxiaoke import FxiaokeCRM
from resolvers.reconcile import Category, Finding, Reconciler
from resolvers.reconcile.engine import ProcessReader
from resolvers.reconcile.repairs import ProcessFixer, Repairer, RepairOutcome
from resolvers.reconcile.store import ReconcileStore
from resolvers.records import ErpOrder, Order, OrderStatus
from resolvers.zoho import ZohoCRM
from tests.support.crm_users import FX_MODULES, fx_values

STORES = ("zoho.sqlite3", "erp.sqlite3")
# Reads never change data; these are the requests that do not write (every Fxiaoke call is
# a POST: its reading verbs and token endpoints are named).
_READS = (
    "GET ",
    "POST /oauth/v2/token",
    "POST /api/method/frappe.client.get_list",
    "POST /cgi/crm/v2/data/query",
    "POST /cgi/crm/v2/data/get",
    "POST /cgi/crm/v2/object/describe",
    "POST /cgi/corpAccessToken/get/V2",
    "POST /oauth2.0/token",
)


@dataclass
class Rig:
    """The two emulations (their stores and request counters) and our connectors to them."""

    zoho: ZohoEmulator | FxiaokeEmulator  # the CRM emulation (named for the first one)
    erp: ErpEmulator
    crm: ZohoCRM | FxiaokeCRM
    scm: ERPNext
    store: ReconcileStore
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def reconciler(self, *, processes: ProcessReader | None = None, **options: Any) -> Reconciler:
        clock = lambda: self.now  # noqa: E731
        return Reconciler(self.crm, self.scm, processes=processes, clock=clock, **options)

    async def findings(
        self, categories: Collection[Category] | None = None, **options: Any
    ) -> list[Finding]:
        return [f async for f in self.reconciler(**options).run(categories)]

    async def repair(
        self,
        finding: Finding,
        *,
        dry_run: bool = False,
        processes: ProcessReader | None = None,
        fixer: ProcessFixer | None = None,
    ) -> RepairOutcome:
        repairer = Repairer(self.reconciler(processes=processes), store=self.store, processes=fixer)
        return await repairer.repair(finding.id, dry_run=dry_run, actor="test-steward")

    async def assert_repaired(
        self,
        finding: Finding,
        *,
        processes: ProcessReader | None = None,
        fixer: ProcessFixer | None = None,
    ) -> RepairOutcome:
        """A dry run plans and writes nothing; the repair applies; a second run no longer
        finds it; a second repair finds nothing to do and writes nothing."""
        before = self.writes()
        planned = await self.repair(finding, dry_run=True, processes=processes, fixer=fixer)
        assert planned.status == "planned", planned.message
        assert planned.actions
        assert self.writes() == before
        applied = await self.repair(finding, processes=processes, fixer=fixer)
        assert applied.status == "applied", applied.message
        assert self.writes() > before
        again = await self.findings({finding.category}, processes=processes)
        assert finding.id not in [f.id for f in again]
        settled = self.writes()
        second = await self.repair(finding, processes=processes, fixer=fixer)
        assert second.status == "gone"
        assert self.writes() == settled
        return applied

    async def orders(self, status: OrderStatus) -> list[Order]:
        page = await self.crm.list_orders(first=200, after=None, status=status)
        return list(page.items)

    async def mirrors(self, order: Order) -> list[ErpOrder]:
        return (await self.scm.mirrors_by_crm_ids([order.id])).get(order.id, [])

    async def unshipped_approved(self) -> tuple[Order, ErpOrder]:
        """An Approved order whose one submitted mirror has delivered nothing."""
        for order in await self.orders(OrderStatus.APPROVED):
            mirrors = await self.mirrors(order)
            if len(mirrors) == 1 and mirrors[0].per_delivered == 0:
                return order, mirrors[0]
        raise AssertionError("the seed has no unshipped approved order")

    async def erp_customer_of(self, order: Order) -> str:
        found = await self.scm.customers_by_crm_ids([order.customer_id or ""])
        return found[order.customer_id or ""][0].name

    async def mirror(
        self, order: Order, *, quantity_delta: int = 0, submit: bool = False
    ) -> ErpOrder:
        """A new ERP mirror of `order` (its lines, optionally with other quantities)."""
        lines = [
            (line.sku, line.quantity + quantity_delta, line.unit_price.amount, "Stores - AC")
            for line in order.lines
        ]
        made = await self.scm.create_sales_order(
            customer=await self.erp_customer_of(order),
            crm_order_id=order.id,
            lines=lines,
            delivery_date=(self.now + timedelta(days=7)).date(),
            currency=order.total.currency,
        )
        return await self.scm.submit_sales_order(made.name) if submit else made

    def writes(self) -> int:
        """Requests that may change data, served by both emulations so far."""
        routes = [*self.zoho.stats.routes.items(), *self.erp.stats.routes.items()]
        return sum(n for route, n in routes if not route.startswith(_READS))

    @property
    def fxiaoke(self) -> bool:
        return isinstance(self.zoho, FxiaokeEmulator)

    async def zoho_call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A Zoho CRM API call with the connector's token (`path` under /crm/v8)."""
        assert isinstance(self.crm, ZohoCRM), "a Zoho call over another CRM"
        return await self.crm.wire.call(method, path, **kwargs)

    def crm_orders_stored(self) -> int:
        """How many orders the CRM emulation holds (counted in its store, not over the API)."""
        if isinstance(self.zoho, FxiaokeEmulator):
            return self.zoho.store.count_where("SalesOrderObj", "1", ())
        return self.zoho.store.count("Sales_Orders")

    async def crm_create(self, module: str, record: dict[str, Any]) -> str:
        """A record created through the CRM's API (Zoho-named fields, written in Fxiaoke's
        when the CRM is Fxiaoke); its id."""
        if isinstance(self.crm, FxiaokeCRM):
            data = {"object_data": {"dataObjectApiName": FX_MODULES[module], **fx_values(record)}}
            reply = await self.crm.wire.call("/cgi/crm/v2/data/create", data, write=True)
            return str(reply["dataId"])
        reply = await self.crm.wire.call("POST", f"/{module}", json={"data": [record]})
        return str(reply["data"][0]["details"]["id"])

    async def crm_update(self, module: str, record_id: str, values: dict[str, Any]) -> None:
        """An edit through the CRM's API (as `crm_create`)."""
        if isinstance(self.crm, FxiaokeCRM):
            record = {"dataObjectApiName": FX_MODULES[module], "_id": record_id}
            data = {"object_data": record | fx_values(values)}
            await self.crm.wire.call("/cgi/crm/v2/data/update", data, write=True)
            return
        await self.crm.wire.call("PUT", f"/{module}/{record_id}", json={"data": [values]})

    def later(self, delta: timedelta) -> None:
        self.now += delta
