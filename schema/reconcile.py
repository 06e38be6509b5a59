"""Reconciliation findings in the graph: `Query.reconciliation` (scope `reconcile:read`)."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers.errors import InvalidInput
from resolvers.reconcile import Finding, reconcile
from resolvers.reconcile.checks import CATEGORIES
from schema.context import Info


@strawberry.enum(description="How much a disagreement costs if left.")
class FindingSeverity(Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@strawberry.type(description="A record on one side of a finding.")
class RecordRef:
    kind: str = strawberry.field(description='What it is: "product", "order", "shipment", ...')
    id: strawberry.ID = strawberry.field(description="Its id in that system.")


@strawberry.type(description="One value that shows the disagreement.")
class FindingValue:
    name: str = strawberry.field(description='Where it comes from, e.g. "crm.status".')
    value: str | None = strawberry.field(description="The value.")


@strawberry.type(description="One place where the CRM and the ERP disagree.")
class ReconciliationFinding:
    id: strawberry.ID = strawberry.field(description="Stable across runs for one disagreement.")
    category: str = strawberry.field(description='The rule, e.g. "product_without_item".')
    severity: FindingSeverity = strawberry.field(description="How much it costs if left.")
    summary: str = strawberry.field(description="What disagrees, in one sentence.")
    fix: str = strawberry.field(description="What should be done, and by whom.")
    crm: list[RecordRef] = strawberry.field(description="The CRM records involved.")
    erp: list[RecordRef] = strawberry.field(description="The ERP records involved.")
    values: list[FindingValue] = strawberry.field(description="The evidence.")

    @classmethod
    def of(cls, f: Finding) -> ReconciliationFinding:
        return cls(
            id=strawberry.ID(f.id),
            category=f.category,
            severity=FindingSeverity(f.severity.value),
            summary=f.summary,
            fix=f.fix,
            crm=[RecordRef(kind=k, id=strawberry.ID(v)) for k, v in f.crm.items()],
            erp=[RecordRef(kind=k, id=strawberry.ID(v)) for k, v in f.erp.items()],
            values=[FindingValue(name=k, value=v) for k, v in f.values.items()],
        )


async def resolve_reconciliation(
    info: Info, categories: list[str] | None = None
) -> list[ReconciliationFinding]:
    unknown = sorted(set(categories or ()) - set(CATEGORIES))
    if unknown:
        raise InvalidInput(
            f"unknown categories {unknown}; known: {', '.join(CATEGORIES)}", argument="categories"
        )
    context = info.context
    found = await reconcile(context.crm, context.scm, categories=categories or None)
    return [ReconciliationFinding.of(f) for f in found]


reconciliation_field = strawberry.field(
    resolver=resolve_reconciliation,
    description=(
        "Where the CRM and the ERP disagree, read afresh from both (a full run: every page of "
        "products, items, customers and shipments); `categories` narrows it."
    ),
)
