"""`reconciliation`, `reconciliationRun` and `repairFinding`: reconciliation on the graph.

The findings come from the last stored run (`crossdock reconcile`, the `[reconcile] every`
schedule), paged with the same signed cursors as every connection; `repairFinding` finds
its finding again on fresh data and repairs it (a dry run by default). A finding's records
link into the graph (`customer`, `order`, `product`, `shipment`), where their own field
rules and masks apply. The service is the gateway's (`app.state.reconciliation`): a gateway
without it answers NOT_CONFIGURED.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry

from resolvers import records
from resolvers.errors import CrossdockError
from resolvers.reconcile import Category, Severity
from resolvers.reconcile import findings as model
from resolvers.reconcile.repairs import Action, RepairOutcome
from resolvers.reconcile.service import ReconcileService
from resolvers.reconcile.store import RunRecord
from schema.connections import Connection, connection_window, paginate
from schema.context import Info
from schema.fields import resolver
from schema.orders import Customer, Order, Shipment, load_customer, load_order, load_shipment
from schema.products import Product, load_product

strawberry.enum(
    Category,
    name="ReconcileCategory",
    description="The kinds of disagreement reconciliation finds.",
)
strawberry.enum(
    Severity,
    name="FindingSeverity",
    description="ERROR breaks a promise between the systems, WARNING is data that disagrees, "
    "INFO a hint (likely duplicates).",
)


@strawberry.enum(description="What a repair did.")
class RepairStatus(enum.Enum):
    APPLIED = "applied"
    PLANNED = "planned"
    GONE = "gone"
    NOT_FIXABLE = "not_fixable"
    FAILED = "failed"


class ReconciliationDisabled(CrossdockError):
    """The gateway runs without reconciliation (`[reconcile] enabled = false`)."""

    code = "NOT_CONFIGURED"


@strawberry.type(description="A record a finding is about, in the system that holds it.")
class FindingRecord:
    system: str = strawberry.field(description='"crm", "erp" or "crossdock" (order processes).')
    kind: str = strawberry.field(
        description="customer, order, product, shipment (entities of this graph), or "
        "erp_customer, sales_order, item, bin, process."
    )
    id: str = strawberry.field(description="Its id in that system (a SKU for products).")
    label: str | None = strawberry.field(description="A name or state to read it by.")

    @resolver("The CRM customer, when the record is one (under Customer's own rules).")
    async def customer(self, info: Info) -> Customer | None:
        return await load_customer(info, self.id) if self._is("crm", "customer") else None

    @resolver("The CRM order, when the record is one.")
    async def order(self, info: Info) -> Order | None:
        return await load_order(info, self.id) if self._is("crm", "order") else None

    @resolver("The product, when the record is one (by SKU).")
    async def product(self, info: Info) -> Product | None:
        return await load_product(info, self.id) if self.kind == "product" else None

    @resolver("The shipment, when the record is one.")
    async def shipment(self, info: Info) -> Shipment | None:
        return await load_shipment(info, self.id) if self.kind == "shipment" else None

    def _is(self, system: str, kind: str) -> bool:
        return self.system == system and self.kind == kind

    @classmethod
    def of(cls, ref: model.RecordRef) -> FindingRecord:
        return cls(system=ref.system, kind=ref.kind, id=ref.id, label=ref.label)


@strawberry.type(description="A value the systems disagree on.")
class FindingDifference:
    field: str = strawberry.field(description='What differs, e.g. "address.city".')
    crm: str | None = strawberry.field(description="The CRM's value (or what is expected).")
    erp: str | None = strawberry.field(description="The ERP's value.")


@strawberry.type(description="The suggested fix, and whether Crossdock can apply it.")
class FindingFix:
    action: str = strawberry.field(description="What to do.")
    fixable: bool = strawberry.field(description="True when repairFinding can apply it.")
    repair: str | None = strawberry.field(description="The repair Crossdock applies, if any.")
    who: str | None = strawberry.field(description="Who must act when Crossdock cannot.")
    why: str | None = strawberry.field(description="Why Crossdock does not make this fix.")


@strawberry.type(description="Where the CRM and the ERP disagree, with evidence and a fix.")
class Finding:
    id: strawberry.ID = strawberry.field(description="Stable across runs: rule and record keys.")
    category: Category = strawberry.field(description="The kind of disagreement.")
    rule: str = strawberry.field(description='The precise rule, e.g. "mirrors.stale_draft".')
    severity: Severity = strawberry.field(description="How bad it is.")
    summary: str = strawberry.field(description="The finding in one sentence.")
    records: list[FindingRecord] = strawberry.field(description="The records on each side.")
    differences: list[FindingDifference] = strawberry.field(description="The differing values.")
    fix: FindingFix = strawberry.field(description="The suggested fix.")

    @classmethod
    def of(cls, f: model.Finding) -> Finding:
        fix = f.fix
        return cls(
            id=strawberry.ID(f.id),
            category=f.category,
            rule=f.rule.id,
            severity=f.severity,
            summary=f.summary,
            records=[FindingRecord.of(r) for r in f.records],
            differences=[
                FindingDifference(field=d.field, crm=d.crm, erp=d.erp) for d in f.differences
            ],
            fix=FindingFix(
                action=fix.action, fixable=fix.fixable, repair=fix.repair, who=fix.who, why=fix.why
            ),
        )


@strawberry.type(description="A count under a name (a rule, a scan stage).")
class NamedCount:
    name: str = strawberry.field(description="The rule id or the stage.")
    count: int = strawberry.field(description="How many.")


@strawberry.type(description="A stored reconciliation run and what it read and found.")
class ReconciliationRun:
    id: strawberry.ID = strawberry.field(description="The run's number in the store.")
    trigger: str = strawberry.field(description='"cli" or "schedule".')
    categories: list[str] = strawberry.field(description="The categories it checked.")
    started_at: datetime = strawberry.field(description="When it started.")
    finished_at: datetime | None = strawberry.field(description="When it ended.")
    seconds: float | None = strawberry.field(description="How long it took.")
    findings: int = strawberry.field(description="Findings of every severity.")
    errors: int = strawberry.field(description="Findings of severity ERROR.")
    warnings: int = strawberry.field(description="Findings of severity WARNING.")
    infos: int = strawberry.field(description="Findings of severity INFO.")
    by_rule: list[NamedCount] = strawberry.field(description="Findings per rule.")
    read: list[NamedCount] = strawberry.field(description="Records read per scan stage.")

    @classmethod
    def of(cls, r: RunRecord) -> ReconciliationRun:
        severities = r.counts.get("severity", {})
        return cls(
            id=strawberry.ID(str(r.id)),
            trigger=r.trigger,
            categories=list(r.categories),
            started_at=r.started_at,
            finished_at=r.finished_at,
            seconds=r.seconds,
            findings=r.count("severity"),
            errors=severities.get("error", 0),
            warnings=severities.get("warning", 0),
            infos=severities.get("info", 0),
            by_rule=_named(r.counts.get("rule", {})),
            read=_named(r.counts.get("read", {})),
        )


def _named(counts: dict[str, int]) -> list[NamedCount]:
    return [NamedCount(name=k, count=v) for k, v in sorted(counts.items())]


@strawberry.type(description="A field's value before or after a repair's write.")
class FieldValue:
    field: str = strawberry.field(description="The field.")
    value: str | None = strawberry.field(description="Its value.")


@strawberry.type(description="One write of a repair.")
class RepairAction:
    operation: str = strawberry.field(description="cancel, delete, submit, create, update, …")
    record: FindingRecord = strawberry.field(description="The record written.")
    before: list[FieldValue] = strawberry.field(description="Its values before.")
    after: list[FieldValue] = strawberry.field(
        description="Its values after (planned in a dry run)."
    )

    @classmethod
    def of(cls, a: Action) -> RepairAction:
        return cls(
            operation=a.operation,
            record=FindingRecord.of(a.target),
            before=[FieldValue(field=k, value=v) for k, v in a.before.items()],
            after=[FieldValue(field=k, value=v) for k, v in a.after.items()],
        )


@strawberry.type(description="What repairFinding did (or, in a dry run, would do).")
class RepairResult:
    finding_id: strawberry.ID = strawberry.field(description="The finding repaired.")
    status: RepairStatus = strawberry.field(description="What happened.")
    message: str = strawberry.field(description="The fix applied, or why not.")
    actions: list[RepairAction] = strawberry.field(description="The writes, in order.")
    journal_id: strawberry.ID | None = strawberry.field(description="Its repair-journal entry.")
    finding: Finding | None = strawberry.field(description="The finding as found again now.")

    @classmethod
    def of(cls, o: RepairOutcome) -> RepairResult:
        return cls(
            finding_id=strawberry.ID(o.finding_id),
            status=RepairStatus(o.status),
            message=o.message,
            actions=[RepairAction.of(a) for a in o.actions],
            journal_id=None if o.journal_id is None else strawberry.ID(str(o.journal_id)),
            finding=None if o.finding is None else Finding.of(o.finding),
        )


def _service(info: Info) -> ReconcileService:
    request: Any = info.context.request
    found = getattr(getattr(getattr(request, "app", None), "state", None), "reconciliation", None)
    service = getattr(found, "service", None)
    if not isinstance(service, ReconcileService):
        raise ReconciliationDisabled("reconciliation is not configured on this gateway")
    return service


async def resolve_reconciliation(
    info: Info,
    categories: list[Category] | None = None,
    severity: Severity = Severity.INFO,
    first: int | None = 20,
    after: str | None = None,
) -> Connection[Finding] | None:
    service = _service(info)
    run = service.last_run()
    chosen = sorted(set(categories or ()), key=lambda c: c.value)
    win = connection_window(
        info,
        "Query.reconciliation",
        first,
        after,
        categories=[c.value for c in chosen],
        severity=severity.value,
    )

    async def fetch(size: int, source: str | None) -> records.Page[model.Finding]:
        if run is None:
            return records.Page(())
        run_id, start = _position(source, run.id)
        found = service.findings(
            run_id, categories=chosen, severity=severity, offset=start, limit=size + 1
        )
        more = len(found) > size
        return records.Page(tuple(found[:size]), f"{run_id}:{start + size}" if more else None)

    return await paginate(win, fetch, Finding.of)


def _position(source: str | None, latest: int) -> tuple[int, int]:
    if source is None:
        return latest, 0
    run, _, start = source.partition(":")
    return int(run), int(start)


async def resolve_run(info: Info) -> ReconciliationRun | None:
    run = _service(info).last_run()
    return None if run is None else ReconciliationRun.of(run)


async def repair_finding(info: Info, id: strawberry.ID, dry_run: bool = True) -> RepairResult:
    actor = info.context.principal.subject or "anonymous"
    outcome = await _service(info).repair(str(id), dry_run=dry_run, actor=f"graphql:{actor}")
    return RepairResult.of(outcome)


@strawberry.type
class ReconciliationQuery:
    """Query mixin: `reconciliation(…)` and `reconciliationRun`."""

    reconciliation: Connection[Finding] | None = strawberry.field(
        resolver=resolve_reconciliation,
        description="Findings of the last reconciliation run, in the order it found them; "
        "filtered by category and by severity (this bad or worse).",
    )
    reconciliation_run: ReconciliationRun | None = strawberry.field(
        resolver=resolve_run,
        description="The last finished reconciliation run and its counts (null before the first).",
    )


@strawberry.type
class ReconciliationMutations:
    """Mutation mixin: `repairFinding(id, dryRun)`."""

    repair_finding: RepairResult = strawberry.mutation(
        resolver=repair_finding,
        description="Repair one finding (found again on fresh data first): journaled with the "
        "caller as actor. dryRun (the default) plans and writes nothing.",
    )
