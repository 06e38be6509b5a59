"""Reconciliation on the graph (scope `reconcile:read`; repairs `reconcile:write`).

- `reconciliation(categories, severity)`: the findings read afresh from both systems (a full
  run over the chosen categories, not stored).
- `reconciliationFindings(categories, severity, first, after)`: the findings of the last
  stored run (`crossdock reconcile`, the `[reconcile] every` schedule), paged with the same
  signed cursors as every connection; `reconciliationRun`: that run's counts.
- `repairFinding(id, dryRun)`: finds its finding again on fresh data and repairs it (a dry
  run by default).

A finding's `category` is its rule's name (`product_without_item`, `stale_draft`, …) and
`group` one of the seven kinds; `categories` arguments take either. Its records link into
the graph (`customer`, `order`, `product`, `shipment`), where their own field rules and masks
apply. The stored run, the schedule and repairs are the gateway's reconciliation service
(`app.state.reconciliation`): a gateway without it answers NOT_CONFIGURED for those.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry

from resolvers import records
from resolvers.errors import CrossdockError, InvalidInput
from resolvers.reconcile import Category, Reconciler, Severity
from resolvers.reconcile import findings as model
from resolvers.reconcile.repairs import Action, RepairOutcome
from resolvers.reconcile.rules import Selection, UnknownCategory, select
from resolvers.reconcile.service import ReconcileService
from resolvers.reconcile.store import RunRecord
from schema.connections import Connection, connection_window, paginate
from schema.context import Info
from schema.fields import resolver
from schema.orders import Customer, Order, Shipment, load_customer, load_order, load_shipment
from schema.products import Product, load_product

strawberry.enum(
    Category,
    name="ReconcileGroup",
    description="The seven kinds of disagreement; each groups finding categories (rules).",
)
strawberry.enum(
    Severity,
    name="FindingSeverity",
    description="How much a disagreement costs if left: ERROR breaks orders or money (a "
    "promise between the systems), WARNING is data that disagrees, INFO a hint (likely "
    "duplicates).",
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


@strawberry.type(description="A record on one side of a finding.")
class RecordRef:
    kind: str = strawberry.field(
        description='What it is: "product", "order", "shipment", "customer" (entities of this '
        'graph), or "erp_customer", "sales_order", "item", "bin", "process".'
    )
    id: strawberry.ID = strawberry.field(description="Its id in that system (a SKU for products).")
    system: str = strawberry.field(description='"crm", "erp" or "crossdock" (order processes).')
    label: str | None = strawberry.field(description="A name or state to read it by.")

    @resolver("The CRM customer, when the record is one (under Customer's own rules).")
    async def customer(self, info: Info) -> Customer | None:
        return await load_customer(info, str(self.id)) if self._is("crm", "customer") else None

    @resolver("The CRM order, when the record is one.")
    async def order(self, info: Info) -> Order | None:
        return await load_order(info, str(self.id)) if self._is("crm", "order") else None

    @resolver("The product, when the record is one (by SKU).")
    async def product(self, info: Info) -> Product | None:
        return await load_product(info, str(self.id)) if self.kind == "product" else None

    @resolver("The shipment, when the record is one.")
    async def shipment(self, info: Info) -> Shipment | None:
        return await load_shipment(info, str(self.id)) if self.kind == "shipment" else None

    def _is(self, system: str, kind: str) -> bool:
        return self.system == system and self.kind == kind

    @classmethod
    def of(cls, ref: model.RecordRef) -> RecordRef:
        return cls(kind=ref.kind, id=strawberry.ID(ref.id), system=ref.system, label=ref.label)


@strawberry.type(description="One value that shows the disagreement.")
class FindingValue:
    name: str = strawberry.field(description='Where it comes from, e.g. "crm.status".')
    value: str | None = strawberry.field(description="The value.")


@strawberry.type(description="A value the systems disagree on, side by side.")
class FindingDifference:
    field: str = strawberry.field(description='What differs, e.g. "address.city".')
    crm: str | None = strawberry.field(description="The CRM's value (or what is expected).")
    erp: str | None = strawberry.field(description="The ERP's value.")


@strawberry.type(description="One place where the CRM and the ERP disagree.")
class ReconciliationFinding:
    id: strawberry.ID = strawberry.field(description="Stable across runs for one disagreement.")
    category: str = strawberry.field(description='The rule, e.g. "product_without_item".')
    severity: Severity = strawberry.field(description="How much it costs if left.")
    summary: str = strawberry.field(description="What disagrees, in one sentence.")
    fix: str = strawberry.field(description="What should be done, and by whom.")
    crm: list[RecordRef] = strawberry.field(description="The CRM records involved.")
    erp: list[RecordRef] = strawberry.field(description="The ERP records involved.")
    values: list[FindingValue] = strawberry.field(description="The evidence.")
    group: Category = strawberry.field(description="The kind of disagreement.")
    rule: str = strawberry.field(description='The rule with its group, e.g. "mirrors.stale_draft".')
    records: list[RecordRef] = strawberry.field(
        description="Every record involved, in both systems and in Crossdock's order journal."
    )
    differences: list[FindingDifference] = strawberry.field(
        description="The differing values, CRM and ERP side by side."
    )
    fixable: bool = strawberry.field(description="True when repairFinding can apply the fix.")
    repair: str | None = strawberry.field(description="The repair Crossdock applies, if any.")
    who: str | None = strawberry.field(description="Who must act when Crossdock cannot.")
    why: str | None = strawberry.field(description="Why Crossdock does not make this fix.")

    @classmethod
    def of(cls, f: model.Finding) -> ReconciliationFinding:
        fix = f.fix
        refs = [RecordRef.of(r) for r in f.records]
        return cls(
            id=strawberry.ID(f.id),
            category=f.rule.name,
            severity=f.severity,
            summary=f.summary,
            fix=fix.text,
            crm=[r for r in refs if r.system == "crm"],
            erp=[r for r in refs if r.system == "erp"],
            values=[FindingValue(name=k, value=v) for k, v in f.values.items()],
            group=f.category,
            rule=f.rule.id,
            records=refs,
            differences=[
                FindingDifference(field=d.field, crm=d.crm, erp=d.erp) for d in f.differences
            ],
            fixable=fix.fixable,
            repair=fix.repair,
            who=fix.who,
            why=fix.why,
        )


@strawberry.type(description="A count under a name (a category, a scan stage).")
class NamedCount:
    name: str = strawberry.field(description="The rule id or the stage.")
    count: int = strawberry.field(description="How many.")


@strawberry.type(description="A stored reconciliation run and what it read and found.")
class ReconciliationRun:
    id: strawberry.ID = strawberry.field(description="The run's number in the store.")
    trigger: str = strawberry.field(description='"cli" or "schedule".')
    categories: list[str] = strawberry.field(description="The finding categories it checked.")
    started_at: datetime = strawberry.field(description="When it started.")
    finished_at: datetime | None = strawberry.field(description="When it ended.")
    seconds: float | None = strawberry.field(description="How long it took.")
    findings: int = strawberry.field(description="Findings of every severity.")
    errors: int = strawberry.field(description="Findings of severity ERROR.")
    warnings: int = strawberry.field(description="Findings of severity WARNING.")
    infos: int = strawberry.field(description="Findings of severity INFO.")
    by_rule: list[NamedCount] = strawberry.field(description="Findings per rule (group.rule).")
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
    record: RecordRef = strawberry.field(description="The record written.")
    before: list[FieldValue] = strawberry.field(description="Its values before.")
    after: list[FieldValue] = strawberry.field(
        description="Its values after (planned in a dry run)."
    )

    @classmethod
    def of(cls, a: Action) -> RepairAction:
        return cls(
            operation=a.operation,
            record=RecordRef.of(a.target),
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
    finding: ReconciliationFinding | None = strawberry.field(
        description="The finding as found again now."
    )

    @classmethod
    def of(cls, o: RepairOutcome) -> RepairResult:
        return cls(
            finding_id=strawberry.ID(o.finding_id),
            status=RepairStatus(o.status),
            message=o.message,
            actions=[RepairAction.of(a) for a in o.actions],
            journal_id=None if o.journal_id is None else strawberry.ID(str(o.journal_id)),
            finding=None if o.finding is None else ReconciliationFinding.of(o.finding),
        )


def _maybe_service(info: Info) -> ReconcileService | None:
    request: Any = info.context.request
    found = getattr(getattr(getattr(request, "app", None), "state", None), "reconciliation", None)
    service = getattr(found, "service", None)
    return service if isinstance(service, ReconcileService) else None


def _service(info: Info) -> ReconcileService:
    service = _maybe_service(info)
    if service is None:
        raise ReconciliationDisabled("reconciliation is not configured on this gateway")
    return service


def _selection(categories: list[str] | None) -> Selection:
    try:
        return select(categories)
    except UnknownCategory as exc:
        raise InvalidInput(str(exc), argument="categories") from None


def _fresh(info: Info) -> Reconciler:
    """A reconciler over this request's connectors, with the gateway's [reconcile] options
    and order journal when it has a reconciliation service."""
    context = info.context
    service = _maybe_service(info)
    if service is None:
        return Reconciler(context.crm, context.scm)
    base = service.reconciler
    return Reconciler(
        context.crm,
        context.scm,
        processes=base.processes,
        clock=base.clock,
        page_size=base.page_size,
        draft_max_age=base.draft_max_age,
    )


async def resolve_reconciliation(
    info: Info, categories: list[str] | None = None, severity: Severity = Severity.INFO
) -> list[ReconciliationFinding]:
    chosen = _selection(categories)
    run = _fresh(info).run(sorted(chosen.names))
    return [ReconciliationFinding.of(f) async for f in run if f.severity.at_least(severity)]


async def resolve_findings(
    info: Info,
    categories: list[str] | None = None,
    severity: Severity = Severity.INFO,
    first: int | None = 20,
    after: str | None = None,
) -> Connection[ReconciliationFinding] | None:
    chosen = sorted(_selection(categories).names) if categories else []
    service = _service(info)
    run = service.last_run()
    win = connection_window(
        info,
        "Query.reconciliationFindings",
        first,
        after,
        categories=chosen,
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

    return await paginate(win, fetch, ReconciliationFinding.of)


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
    """Query mixin: `reconciliation(…)`, `reconciliationFindings(…)`, `reconciliationRun`."""

    reconciliation: list[ReconciliationFinding] | None = strawberry.field(
        resolver=resolve_reconciliation,
        description="Where the CRM and the ERP disagree, read afresh from both (a full run "
        "over every page of the systems it needs); `categories` (finding categories or "
        "groups) narrows it, `severity` keeps findings this bad or worse.",
    )
    reconciliation_findings: Connection[ReconciliationFinding] | None = strawberry.field(
        resolver=resolve_findings,
        description="Findings of the last stored reconciliation run, in the order it found "
        "them; filtered by category or group and by severity (this bad or worse).",
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
