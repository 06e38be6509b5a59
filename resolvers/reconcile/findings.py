"""What a reconciliation run reports: findings, each a rule's verdict with its evidence.

A finding names its category (its rule's name, e.g. `product_without_item`, unique across
the seven groups of `Category`) and rule, a severity, the records on each side (system, kind,
id, a label to read), the values that differ, and a fix: either a repair Crossdock can apply
(`Fix.repair` names it) or who must act and why. Its id is stable across runs (rule plus
the keys of the records it is about), so a repair can find it again on fresh data and a
second run shows whether it is gone.

    Finding(rule=MIRROR_OF_CANCELLED, key=("5725767000000200301", "SAL-ORD-2026-00012"), …).id
    == "mirrors.live_mirror_of_cancelled_order:5725767000000200301:SAL-ORD-2026-00012"
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote

System = Literal["crm", "erp", "crossdock"]
# customer, order, product and shipment are the graph's own entities (links into it);
# the others are records only one system has.
Kind = Literal[
    "customer",
    "order",
    "product",
    "shipment",
    "erp_customer",
    "sales_order",
    "item",
    "bin",
    "process",
]


class Severity(enum.Enum):
    """How bad a finding is: ERROR breaks a promise between the systems (stock reserved for a
    cancelled order, goods shipped for one), WARNING is data that disagrees, INFO a hint."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


class Category(enum.Enum):
    """The seven kinds of disagreement (docs/reconcile.md has each rule)."""

    COUNTERPARTS = "counterparts"
    MIRRORS = "mirrors"
    SHIPMENTS = "shipments"
    DRIFT = "drift"
    RESERVATIONS = "reservations"
    DUPLICATES = "duplicates"
    PROCESSES = "processes"


@dataclass(frozen=True, slots=True)
class Rule:
    """One precise rule of a category, with the severity of what it finds."""

    category: Category
    name: str
    severity: Severity
    description: str

    @property
    def id(self) -> str:
        return f"{self.category.value}.{self.name}"


@dataclass(frozen=True, slots=True)
class RecordRef:
    """A record a finding is about: which system holds it, what it is, its id there."""

    system: System
    kind: Kind
    id: str
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Difference:
    """One value the two systems (or a system and what it should be) disagree on."""

    field: str
    crm: str | None
    erp: str | None


@dataclass(frozen=True, slots=True)
class Fix:
    """The suggested fix: `repair` names what Crossdock applies (see resolvers.reconcile.
    repairs); without it, `who` must act and `why` says why Crossdock does not."""

    action: str
    repair: str | None = None
    targets: tuple[str, ...] = ()  # the records the repair writes (ids in the other system)
    who: str | None = None
    why: str | None = None

    @property
    def fixable(self) -> bool:
        return self.repair is not None

    @property
    def text(self) -> str:
        """What should be done, and by whom (the `fix` of the CLI and the graph)."""
        return self.action if self.who is None else f"{self.action} Who: {self.who}."


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    key: tuple[str, ...]
    summary: str
    records: tuple[RecordRef, ...]
    fix: Fix
    differences: tuple[Difference, ...] = ()

    @property
    def id(self) -> str:
        return finding_id(self.rule.id, self.key)

    @property
    def category(self) -> Category:
        return self.rule.category

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def values(self) -> dict[str, str]:
        """The evidence by name: each difference as `crm.<field>` and `erp.<field>`."""
        found: dict[str, str] = {}
        for d in self.differences:
            for side, value in (("crm", d.crm), ("erp", d.erp)):
                if value is not None:
                    found[f"{side}.{d.field}"] = value
        return found

    def sides(self, system: System) -> dict[str, str]:
        """The ids of its records in one system by kind (several of a kind: comma-separated)."""
        found: dict[str, str] = {}
        for r in self.records:
            if r.system == system:
                found[r.kind] = f"{found[r.kind]},{r.id}" if r.kind in found else r.id
        return found


def finding_id(rule_id: str, key: tuple[str, ...]) -> str:
    """`rule:key1:key2`, each key percent-escaped so that ids of any names split back."""
    return ":".join((rule_id, *(quote(part, safe=" -_.~@/()&,'") for part in key)))


def split_id(finding: str) -> tuple[str, tuple[str, ...]]:
    """The rule id and keys of a finding id (the inverse of `finding_id`)."""
    rule, *keys = finding.split(":")
    return rule, tuple(unquote(k) for k in keys)
