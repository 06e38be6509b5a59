"""The rules of reconciliation, one module per category (each module's docstring states its
rules precisely). Rules are pure functions of bundles (resolvers.reconcile.bundles)."""

from __future__ import annotations

from ..findings import Rule
from . import counterparts, drift, duplicates, mirrors, processes, reservations, shipments

ALL_RULES: dict[str, Rule] = {
    rule.id: rule
    for module in (counterparts, mirrors, shipments, drift, reservations, duplicates, processes)
    for rule in module.RULES
}

__all__ = [
    "ALL_RULES",
    "counterparts",
    "drift",
    "duplicates",
    "mirrors",
    "processes",
    "reservations",
    "shipments",
]
