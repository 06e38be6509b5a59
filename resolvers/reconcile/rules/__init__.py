"""The rules of reconciliation, one module per category (each module's docstring states its
rules precisely). Rules are pure functions of bundles (resolvers.reconcile.bundles).

A rule's name is a finding's public category (`product_without_item`, `stale_draft`, …),
unique across the seven groups (`Category`: counterparts, mirrors, …). Where a run, the CLI
or the graph is asked for categories, each may name a rule or a whole group:

    chosen = select(["product_without_item", "mirrors"])
    chosen.groups    # the groups whose stages must run: {COUNTERPARTS, MIRRORS}
    chosen.wants(finding)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from ..findings import Category, Finding, Rule
from . import counterparts, drift, duplicates, mirrors, processes, reservations, shipments

ALL_RULES: dict[str, Rule] = {
    rule.id: rule
    for module in (counterparts, mirrors, shipments, drift, reservations, duplicates, processes)
    for rule in module.RULES
}
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in ALL_RULES.values()}
# Every finding category (a rule's name), in the order runs report them.
CATEGORIES: tuple[str, ...] = tuple(RULES_BY_NAME)
GROUPS: tuple[str, ...] = tuple(c.value for c in Category)


class UnknownCategory(ValueError):
    """A category that is neither a rule's name nor a group's."""


@dataclass(frozen=True, slots=True)
class Selection:
    """The finding categories (rule names) a run reports."""

    names: frozenset[str]

    @property
    def groups(self) -> frozenset[Category]:
        return frozenset(RULES_BY_NAME[name].category for name in self.names)

    @property
    def everything(self) -> bool:
        return len(self.names) == len(CATEGORIES)

    def wants(self, finding: Finding) -> bool:
        return finding.rule.name in self.names


def select(chosen: Collection[str | Category] | None = None) -> Selection:
    """The selection of rule names and group names (everything when None or empty)."""
    if not chosen:
        return Selection(frozenset(CATEGORIES))
    names: set[str] = set()
    unknown: list[str] = []
    for item in chosen:
        value = item.value if isinstance(item, Category) else item
        if value in RULES_BY_NAME:
            names.add(value)
        elif value in GROUPS:
            names.update(r.name for r in RULES_BY_NAME.values() if r.category.value == value)
        else:
            unknown.append(value)
    if unknown:
        raise UnknownCategory(
            f"unknown reconciliation categories {sorted(unknown)}; known: "
            f"{', '.join(CATEGORIES)}; or a whole group: {', '.join(GROUPS)}"
        )
    return Selection(frozenset(names))


__all__ = [
    "ALL_RULES",
    "CATEGORIES",
    "GROUPS",
    "RULES_BY_NAME",
    "Selection",
    "UnknownCategory",
    "counterparts",
    "drift",
    "duplicates",
    "mirrors",
    "processes",
    "reservations",
    "select",
    "shipments",
]
