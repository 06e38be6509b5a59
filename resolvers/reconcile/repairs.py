"""Applying the fixes Crossdock can make safely, one finding at a time.

A repair starts by finding its finding again on fresh data (resolvers.reconcile.recheck):
gone means there is nothing to do (so a repair is idempotent: the second one writes
nothing); found, it plans its writes from what the systems show now, and a dry run stops
there and writes nothing. Applied, it goes through the same connector methods and the same
compensation as the order process (cancel a submitted mirror, delete a draft; the order
process's own resolver for its processes), is journaled before and after (who, what, the
before and after of every write, in `ReconcileStore`), and ends with one more recheck: still
found means `failed`.

    outcome = await Repairer(reconciler, store=store).repair(finding_id, dry_run=True, actor="ops")
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from resolvers.errors import CrossdockError, InvalidInput
from resolvers.saga.locks import LockProvider

from .bundles import DRAFT, SUBMITTED
from .engine import Reconciler
from .findings import Finding, RecordRef, split_id
from .recheck import NotRecheckable, recheck
from .rules import ALL_RULES
from .store import RunStore

Status = Literal["applied", "planned", "gone", "not_fixable", "failed"]


class ProcessFixer(Protocol):
    """What repairs ask of the order process (resolvers.saga.OrderProcessService)."""

    async def resolve(self, id: str) -> object: ...
    async def reopen(self, id: str) -> object: ...


@dataclass(frozen=True, slots=True)
class Action:
    """One write of a repair: what it does to which record, the values before and after."""

    operation: str
    target: RecordRef
    before: dict[str, str | None]
    after: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class RepairOutcome:
    finding_id: str
    status: Status
    message: str
    actions: tuple[Action, ...] = ()
    finding: Finding | None = None
    journal_id: int | None = None

    @property
    def wrote(self) -> bool:
        return self.status in ("applied", "failed") and bool(self.actions)


Plan = Callable[["_Job"], Awaitable[list["_Step"]]]


@dataclass(frozen=True, slots=True)
class _Step:
    action: Action
    run: Callable[[], Awaitable[dict[str, str | None]]]  # does the write; the values after


@dataclass(frozen=True, slots=True)
class _Job:
    finding: Finding
    repairer: Repairer


class Repairer:
    """Repairs findings through the reconciler's connectors (and the order process for
    process findings); `store` journals every applied repair. One repair of a finding at a
    time: in this process, or across replicas with shared `locks` (Redis)."""

    def __init__(
        self,
        reconciler: Reconciler,
        *,
        store: RunStore | None = None,
        processes: ProcessFixer | None = None,
        clock: Callable[[], datetime] | None = None,
        locks: LockProvider | None = None,
    ) -> None:
        self.reconciler = reconciler
        self.locks = locks
        self.crm, self.scm = reconciler.crm, reconciler.scm
        self.store = store
        self.processes = processes
        self.clock = clock or (lambda: datetime.now(UTC))
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def repair(self, finding_id: str, *, dry_run: bool, actor: str) -> RepairOutcome:
        """Repair one finding (by id); `dry_run` plans and writes nothing."""
        rule_id, _ = split_id(finding_id)
        if rule_id not in ALL_RULES:
            raise InvalidInput(f"{finding_id[:80]!r} is not a reconciliation finding id")
        if self.locks is not None:
            async with self.locks.hold([f"reconcile-repair:{finding_id}"]):
                return await self._repair(finding_id, dry_run=dry_run, actor=actor)
        lock = self._locks.get(finding_id) or asyncio.Lock()
        self._locks[finding_id] = lock
        async with lock:
            return await self._repair(finding_id, dry_run=dry_run, actor=actor)

    async def _repair(self, finding_id: str, *, dry_run: bool, actor: str) -> RepairOutcome:
        try:
            finding = await recheck(self.reconciler, finding_id)
        except NotRecheckable as exc:
            return RepairOutcome(finding_id, "not_fixable", _never(exc.rule_id))
        if finding is None:
            return RepairOutcome(finding_id, "gone", "The finding is gone: nothing to repair.")
        fix = finding.fix
        if fix.repair is None:
            who = f" {fix.who} must act" if fix.who else ""
            return RepairOutcome(
                finding_id,
                "not_fixable",
                f"Crossdock does not repair this:{who}, because {fix.why}. {fix.action}",
                finding=finding,
            )
        steps = await _PLANS[fix.repair](_Job(finding, self))
        planned = tuple(step.action for step in steps)
        if dry_run:
            return RepairOutcome(finding_id, "planned", fix.action, planned, finding)
        return await self._apply(finding, steps, actor)

    async def _apply(self, finding: Finding, steps: list[_Step], actor: str) -> RepairOutcome:
        journal_id = None
        detail: dict[str, Any] = {"finding": finding.summary, "fix": finding.fix.action}
        if self.store is not None:
            detail["planned"] = [asdict(s.action) for s in steps]
            journal_id = self.store.begin_repair(
                actor=actor,
                finding_id=finding.id,
                rule=finding.rule.id,
                at=self.clock(),
                detail=detail,
            )
        done: list[Action] = []
        status: Status = "applied"
        message = finding.fix.action
        try:
            for step in steps:
                after = await step.run()
                done.append(
                    Action(step.action.operation, step.action.target, step.action.before, after)
                )
            if await recheck(self.reconciler, finding.id) is not None:
                status, message = "failed", "The writes were made but the finding remains."
        except CrossdockError as exc:
            status, message = "failed", f"A write failed: {exc.message}"
        if self.store is not None and journal_id is not None:
            detail["actions"] = [asdict(a) for a in done]
            detail["message"] = message
            self.store.finish_repair(journal_id, status=status, at=self.clock(), detail=detail)
        return RepairOutcome(finding.id, status, message, tuple(done), finding, journal_id)


def _never(rule_id: str) -> str:
    rule = ALL_RULES[rule_id]
    return (
        f"Crossdock never repairs {rule_id} ({rule.description}): the finding's fix says who "
        "must act and why."
    )


async def _release_mirrors(job: _Job) -> list[_Step]:
    """Cancel each submitted target mirror, delete each draft one (the order process's undo)."""
    finding, scm = job.finding, job.repairer.scm
    order_id = (
        finding.key[-1] if finding.rule.name == "live_mirror_without_order" else finding.key[0]
    )
    current = {m.name: m for m in await scm.mirrors_of(order_id)}
    steps = []
    for name in finding.fix.targets:
        mirror = current.get(name)
        if mirror is None or mirror.docstatus not in (DRAFT, SUBMITTED):
            continue  # already released: nothing to write
        target = RecordRef("erp", "sales_order", name, None)
        if mirror.docstatus == SUBMITTED:
            steps.append(
                _Step(
                    Action(
                        "cancel", target, {"docstatus": "submitted"}, {"docstatus": "cancelled"}
                    ),
                    _cancel(job, name),
                )
            )
        else:
            steps.append(
                _Step(
                    Action("delete", target, {"docstatus": "draft"}, {"docstatus": "deleted"}),
                    _delete(job, name),
                )
            )
    return steps


def _cancel(job: _Job, name: str) -> Callable[[], Awaitable[dict[str, str | None]]]:
    async def run() -> dict[str, str | None]:
        mirror = await job.repairer.scm.cancel_sales_order(name)
        return {"docstatus": "cancelled" if mirror.docstatus == 2 else str(mirror.docstatus)}

    return run


def _delete(job: _Job, name: str) -> Callable[[], Awaitable[dict[str, str | None]]]:
    async def run() -> dict[str, str | None]:
        await job.repairer.scm.delete_sales_order(name)
        return {"docstatus": "deleted"}

    return run


async def _submit_draft(job: _Job) -> list[_Step]:
    name = job.finding.fix.targets[0]
    target = RecordRef("erp", "sales_order", name, None)

    async def run() -> dict[str, str | None]:
        mirror = await job.repairer.scm.submit_sales_order(name)
        return {"docstatus": "submitted" if mirror.docstatus == 1 else str(mirror.docstatus)}

    return [
        _Step(Action("submit", target, {"docstatus": "draft"}, {"docstatus": "submitted"}), run)
    ]


async def _create_customer(job: _Job) -> list[_Step]:
    account_id = job.finding.key[0]
    account = (await job.repairer.crm.get_accounts([account_id], with_email=False)).get(account_id)
    if account is None:
        return []
    target = RecordRef("erp", "erp_customer", account.name, account.name)
    after: dict[str, str | None] = {
        "customer_name": account.name,
        "custom_crm_account_id": account_id,
    }

    async def run() -> dict[str, str | None]:
        made = await job.repairer.scm.create_customer(
            customer_name=account.name, crm_account_id=account_id
        )
        return {
            "name": made.name,
            "customer_name": made.customer_name,
            "custom_crm_account_id": made.crm_account_id,
        }

    return [_Step(Action("create", target, {}, after), run)]


async def _copy_customer(job: _Job) -> list[_Step]:
    """The CRM account's name, and its shipping address onto the customer's primary address,
    through the sync rules' writes (`update_customer`, `save_address`)."""
    finding, scm = job.finding, job.repairer.scm
    account_id, erp_name = finding.key[0], finding.key[1]
    account = (await job.repairer.crm.get_accounts([account_id], with_email=False)).get(account_id)
    customers = (await scm.customers_by_crm_ids([account_id])).get(account_id, [])
    customer = next((c for c in customers if c.name == erp_name), None)
    if account is None or customer is None:
        return []
    before = {d.field: d.erp for d in finding.differences}
    after = {d.field: d.crm for d in finding.differences}
    renames = any(d.field == "name" for d in finding.differences)
    moves = any(d.field.startswith("address.") for d in finding.differences)
    primary, wanted = customer.address, account.shipping_address
    target = RecordRef("erp", "erp_customer", erp_name, None)

    async def run() -> dict[str, str | None]:
        if renames:
            await scm.update_customer(erp_name, customer_name=account.name)
        if moves and primary is not None and wanted is not None:
            await scm.save_address(
                erp_name,
                kind=primary.kind,
                title=customer.customer_name,
                address=wanted,
                name=primary.name,
            )
        return after

    return [_Step(Action("update", target, before, after), run)]


async def _copy_product(job: _Job) -> list[_Step]:
    sku = job.finding.key[0]
    product = (await job.repairer.crm.products_by_sku([sku])).get(sku)
    if product is None:
        return []
    before = {d.field: d.erp for d in job.finding.differences}
    after = {d.field: d.crm for d in job.finding.differences}
    target = RecordRef("erp", "item", sku, None)

    async def run() -> dict[str, str | None]:
        item = await job.repairer.scm.update_item(
            sku, name=product.name, description=product.description, disabled=not product.active
        )
        return {"name": item.name, "active": str(not item.disabled).lower()}

    return [_Step(Action("update", target, before, after), run)]


async def _create_item(job: _Job) -> list[_Step]:
    """The ERP item of an active CRM product (code, name, description, unit; `[scm]
    item_group`), through the ERP port's create_item."""
    sku = job.finding.key[0]
    product = (await job.repairer.crm.products_by_sku([sku])).get(sku)
    if product is None:
        return []
    target = RecordRef("erp", "item", sku, product.name)
    after: dict[str, str | None] = {"item_code": sku, "item_name": product.name}

    async def run() -> dict[str, str | None]:
        item = await job.repairer.scm.create_item(product)
        return {"item_code": item.sku, "item_name": item.name}

    return [_Step(Action("create", target, {}, after), run)]


def _process_plan(operation: str) -> Plan:
    async def plan(job: _Job) -> list[_Step]:
        fixer = job.repairer.processes
        if fixer is None:
            raise InvalidInput("order-process repairs need the order process ([saga] enabled)")
        process_id = job.finding.key[0]
        target = RecordRef("crossdock", "process", process_id, None)
        before = {"status": job.finding.records[0].label}

        async def run() -> dict[str, str | None]:
            state = await (
                fixer.resolve(process_id) if operation == "resolve" else fixer.reopen(process_id)
            )
            status = getattr(state, "status", None)
            return {"status": getattr(status, "value", None)}

        return [_Step(Action(operation, target, before, {"status": "resolved"}), run)]

    return plan


_PLANS: dict[str, Plan] = {
    "release_mirrors": _release_mirrors,
    "submit_draft_mirror": _submit_draft,
    "create_erp_customer": _create_customer,
    "create_erp_item": _create_item,
    "copy_customer_to_erp": _copy_customer,
    "copy_product_to_erp": _copy_product,
    "resolve_process": _process_plan("resolve"),
    "reopen_process": _process_plan("reopen"),
}
