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
from backends.zoho.app import ZohoEmulator
from resolvers.erpnext import ERPNext
from resolvers.reconcile import Category, Finding, Reconciler
from resolvers.reconcile.engine import ProcessReader
from resolvers.reconcile.repairs import ProcessFixer, Repairer, RepairOutcome
from resolvers.reconcile.store import ReconcileStore
from resolvers.records import ErpOrder, Order, OrderStatus
from resolvers.zoho import ZohoCRM

STORES = ("zoho.sqlite3", "erp.sqlite3")
# Reads never change data; these are the requests that do not write.
_READS = ("GET ", "POST /oauth/v2/token", "POST /api/method/frappe.client.get_list")


@dataclass
class Rig:
    """The two emulations (their stores and request counters) and our connectors to them."""

    zoho: ZohoEmulator
    erp: ErpEmulator
    crm: ZohoCRM
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

    async def zoho_call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A Zoho CRM API call with the connector's token (`path` under /crm/v8)."""
        return await self.crm.wire.call(method, path, **kwargs)

    def later(self, delta: timedelta) -> None:
        self.now += delta
