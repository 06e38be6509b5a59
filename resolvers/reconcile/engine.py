"""One reconciliation run: the stages that read both systems, the rules they feed, and the
counts of what was read and found.

    reconciler = Reconciler(crm, scm, processes=journal)
    async for finding in reconciler.run({Category.MIRRORS}, progress=print_progress):
        ...
    reconciler.run(["product_without_item", "shipments"])   # finding categories or groups
    reconciler.report    # counts per rule, severity and stage of the last run

Stages run in this order, each only when a chosen category needs it: CRM accounts (with their
ERP customers), ERP customers, CRM products (with their ERP items), CRM orders (with every
mirror and, for shipments, the shipments), ERP sales orders, ERP shipments, ERP items (with
their Bins), the order-process journal. Memory holds one page, the per-(SKU, warehouse)
needs, the accounts without an ERP customer and the duplicate keys; never a table.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from resolvers.ports import CrmPort, ErpPort
from resolvers.records import Customer, Order, OrderStatus, Page, Shipment
from resolvers.saga.state import ProcessState

from .bundles import LIVE, Context, CustomerPair, OrderBundle, ProductPair
from .findings import Category, Finding
from .rules import (
    CATEGORIES,
    Selection,
    counterparts,
    drift,
    duplicates,
    mirrors,
    processes,
    reservations,
    select,
    shipments,
)
from .scans import order_bundles, pages

Progress = Callable[[str, int], None]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SHOWN_ORDERS = 5
_PROCESS_BATCH = 100


_C = Category
# The stages of a run in order, and the categories that need each one.
STAGES: tuple[tuple[str, tuple[Category, ...]], ...] = (
    ("crm accounts", (_C.COUNTERPARTS, _C.DRIFT, _C.DUPLICATES)),
    ("erp customers", (_C.COUNTERPARTS, _C.DUPLICATES)),
    ("crm products", (_C.COUNTERPARTS, _C.DRIFT)),
    ("crm orders", (_C.COUNTERPARTS, _C.MIRRORS, _C.SHIPMENTS, _C.DRIFT, _C.RESERVATIONS)),
    ("erp sales orders", (_C.MIRRORS,)),
    ("erp shipments", (_C.SHIPMENTS,)),
    ("erp items", (_C.COUNTERPARTS, _C.RESERVATIONS)),
    ("order processes", (_C.PROCESSES,)),
)


def planned_stages(categories: Collection[Category | str] | None = None) -> list[str]:
    """The stages a run of these categories or groups (all when None) goes through, in order."""
    chosen = select(categories).groups
    return [name for name, needed_by in STAGES if chosen.intersection(needed_by)]


class ProcessReader(Protocol):
    """What reconciliation reads of the order-process journal (resolvers.saga.Journal)."""

    def unfinished(self) -> list[ProcessState]: ...
    def ended_since(self, statuses: Sequence[str], since: datetime) -> list[ProcessState]: ...
    def load(self, process_id: str) -> ProcessState | None: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class RunReport:
    """What one run read and found; `finished_at` is None while it runs."""

    categories: tuple[str, ...]  # the finding categories (rule names) it checked
    started_at: datetime
    finished_at: datetime | None = None
    seconds: float = 0.0
    read: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    by_severity: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)

    def count(self, finding: Finding) -> None:
        self.by_rule[finding.rule.id] += 1
        self.by_severity[finding.severity.value] += 1
        self.by_category[finding.category.value] += 1

    @property
    def findings(self) -> int:
        return sum(self.by_rule.values())


@dataclass
class _Unmatched:
    """A CRM account with no ERP customer, and the open orders seen for it."""

    account: Customer
    orders: list[Order] = field(default_factory=list)
    total: int = 0


class Reconciler:
    """Finds where the CRM and the ERP disagree (resolvers.reconcile.rules), reading both
    through their ports in pages of `page_size`."""

    def __init__(
        self,
        crm: CrmPort,
        scm: ErpPort,
        *,
        processes: ProcessReader | None = None,
        clock: Callable[[], datetime] = _utcnow,
        page_size: int = 200,
        draft_max_age: timedelta = timedelta(hours=24),
    ) -> None:
        self.crm = crm
        self.scm = scm
        self.processes = processes
        self.clock = clock
        self.page_size = page_size
        self.draft_max_age = draft_max_age
        self.report: RunReport | None = None

    def context(self) -> Context:
        return Context(now=self.clock(), draft_max_age=self.draft_max_age)

    async def run(
        self,
        categories: Collection[Category | str] | None = None,
        *,
        progress: Progress | None = None,
    ) -> AsyncIterator[Finding]:
        """Every finding of the chosen categories or groups (all when None), as the stages
        find them; UnknownCategory (a ValueError) for a name no rule or group has."""
        selection = select(categories)
        order = tuple(name for name in CATEGORIES if name in selection.names)
        report = RunReport(order, self.clock())
        self.report = report
        started = time.perf_counter()
        run = _Run(self, selection, report, progress or _quiet)
        async for finding in run.stages():
            report.count(finding)
            yield finding
        report.finished_at = self.clock()
        report.seconds = round(time.perf_counter() - started, 3)


def _quiet(stage: str, done: int) -> None:
    return None


class _Run:
    """The state of one run: which categories, what has been accumulated across pages."""

    def __init__(
        self, owner: Reconciler, selection: Selection, report: RunReport, progress: Progress
    ) -> None:
        self.crm, self.scm, self.size = owner.crm, owner.scm, owner.page_size
        self.journal = owner.processes
        self.ctx = owner.context()
        self.selection = selection
        self.chosen = selection.groups
        self.report = report
        self.progress = progress
        self.unmatched: dict[str, _Unmatched] = {}
        self.needs = reservations.Needs()
        self.duplicates = duplicates.Duplicates()

    def wants(self, *categories: Category) -> bool:
        return any(c in self.chosen for c in categories)

    def tick(self, stage: str, count: int) -> None:
        self.report.read[stage] += count
        self.progress(stage, self.report.read[stage])

    async def stages(self) -> AsyncIterator[Finding]:
        steps = {
            "crm accounts": self.accounts,
            "erp customers": self.erp_customers,
            "crm products": self.products,
            "crm orders": self.orders,
            "erp sales orders": self.erp_orders,
            "erp shipments": self.erp_shipments,
            "erp items": self.items,
            "order processes": self.journaled,
        }
        for name in planned_stages(self.chosen):
            async for finding in steps[name]():
                if self.selection.wants(finding):
                    yield finding
        if self.wants(Category.DUPLICATES):
            for finding in self.duplicates.findings():
                if self.selection.wants(finding):
                    yield finding

    async def accounts(self) -> AsyncIterator[Finding]:
        async for page in pages(lambda after: self.crm.list_accounts(first=self.size, after=after)):
            customers = await self.scm.customers_by_crm_ids([a.id for a in page])
            for account in page:
                erp = tuple(customers.get(account.id, ()))
                if not erp:
                    self.unmatched[account.id] = _Unmatched(account)
                for finding in drift.customer(CustomerPair(account, erp)):
                    yield finding
                self.duplicates.add_account(account)
            self.tick("crm accounts", len(page))

    async def erp_customers(self) -> AsyncIterator[Finding]:
        async for page in pages(
            lambda after: self.scm.list_customers(first=self.size, after=after)
        ):
            ids = [str(c.crm_account_id) for c in page if c.crm_account_id]
            known: Collection[str] = ()
            if ids and self.wants(Category.COUNTERPARTS):
                known = await self.crm.get_accounts(ids, with_email=False)
            for customer in page:
                if customer.crm_account_id and customer.crm_account_id not in known:
                    for finding in counterparts.customer_without_account(customer):
                        yield finding
                self.duplicates.add_customer(customer)
            self.tick("erp customers", len(page))

    async def products(self) -> AsyncIterator[Finding]:
        async for page in pages(lambda after: self.crm.list_products(first=self.size, after=after)):
            listed = [p for p in page if p.sku]
            items = await self.scm.get_items([p.sku for p in listed])
            for product in listed:
                pair = ProductPair(product.sku, product, items.get(product.sku))
                for finding in (*counterparts.product_without_item(pair), *drift.product(pair)):
                    yield finding
            self.tick("crm products", len(page))

    async def orders(self) -> AsyncIterator[Finding]:
        lines = self.wants(Category.MIRRORS, Category.DRIFT, Category.RESERVATIONS)
        ships = self.wants(Category.SHIPMENTS)
        async for page in pages(lambda after: self.crm.list_orders(first=self.size, after=after)):
            for bundle in await order_bundles(
                self.scm, page, with_lines=lines, with_shipments=ships
            ):
                for finding in self._order_findings(bundle):
                    yield finding
                self.needs.add(bundle)
                self._note_account(bundle.order)
            self.tick("crm orders", len(page))
        for entry in self.unmatched.values():
            for finding in counterparts.account_without_customer(
                entry.account, entry.orders, entry.total
            ):
                yield finding

    def _order_findings(self, bundle: OrderBundle) -> list[Finding]:
        return [
            *mirrors.check_order(bundle, self.ctx),
            *shipments.check_order(bundle),
            *(drift.order_lines(bundle) if bundle.mirrors and self.wants(Category.DRIFT) else ()),
        ]

    def _note_account(self, order: Order) -> None:
        entry = self.unmatched.get(order.customer_id or "")
        if entry is None or order.status is OrderStatus.CANCELLED:
            return
        entry.total += 1
        if len(entry.orders) < _SHOWN_ORDERS:
            entry.orders.append(order)

    async def erp_orders(self) -> AsyncIterator[Finding]:
        async for page in pages(
            lambda after: self.scm.list_sales_orders(first=self.size, after=after)
        ):
            live = [m for m in page if m.docstatus in LIVE and m.crm_order_id]
            found = await self.crm.get_orders(list({str(m.crm_order_id) for m in live}))
            for mirror in live:
                if mirror.crm_order_id not in found:
                    for finding in mirrors.orphan_mirror(mirror):
                        yield finding
            self.tick("erp sales orders", len(page))

    async def erp_shipments(self) -> AsyncIterator[Finding]:
        """Shipments whose CRM order does not exist (the order stage sees only existing ones)."""

        def fetch(after: str | None) -> Awaitable[Page[Shipment]]:
            return self.scm.list_shipments(first=self.size, after=after, with_destination=False)

        async for page in pages(fetch):
            ids = list({s.order_id for s in page if s.order_id})
            found = await self.crm.get_orders(ids) if ids else {}
            for shipment in page:
                if shipment.order_id and shipment.order_id not in found:
                    for finding in shipments.shipment_without_order(shipment):
                        yield finding
            self.tick("erp shipments", len(page))

    async def items(self) -> AsyncIterator[Finding]:
        async for page in pages(lambda after: self.scm.list_items(first=self.size, after=after)):
            skus = [i.sku for i in page]
            if self.wants(Category.COUNTERPARTS):
                products = await self.crm.products_by_sku(skus)
                for item in page:
                    if item.sku not in products:
                        for finding in counterparts.item_without_product(item):
                            yield finding
            if self.wants(Category.RESERVATIONS):
                bins = await self.scm.list_bins(skus)
                for finding in self.needs.compare(level for ls in bins.values() for level in ls):
                    yield finding
                for finding in self.needs.unmatched(skus):
                    yield finding
            self.tick("erp items", len(page))
        if self.wants(Category.RESERVATIONS):
            for finding in self.needs.unmatched({sku for sku, _ in self.needs.need}):
                yield finding

    async def journaled(self) -> AsyncIterator[Finding]:
        if self.journal is None:
            return
        for state in self.journal.unfinished():
            for finding in processes.needs_attention(state):
                yield finding
        ended = self.journal.ended_since([s.value for s in processes.ENDED], _EPOCH)
        for start in range(0, len(ended), _PROCESS_BATCH):
            for finding in await self._ended(ended[start : start + _PROCESS_BATCH]):
                yield finding
            self.tick("order processes", len(ended[start : start + _PROCESS_BATCH]))

    async def _ended(self, states: Sequence[ProcessState]) -> list[Finding]:
        ids = [s.crm_order_id for s in states if s.crm_order_id]
        orders = await self.crm.get_orders(ids) if ids else {}
        live = await self.scm.mirrors_by_crm_ids(ids, with_lines=False) if ids else {}
        found: list[Finding] = []
        for state in states:
            key = state.crm_order_id or ""
            found += processes.live_after_end(state, orders.get(key), live.get(key, ()))
        return found
