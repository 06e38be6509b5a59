"""Reconciliation and cleansing: where the CRM and the ERP disagree, with evidence and a fix.

`Reconciler.run` reads both systems through their ports in pages (resolvers.reconcile.scans)
and applies the rules of seven categories (resolvers.reconcile.rules): missing counterparts,
order mirrors, shipments, drift, reservations, duplicates, order processes. Each finding
(resolvers.reconcile.findings) carries the records on each side, the differing values and a
fix; `Repairer` applies the fixes Crossdock can make safely, through the same connectors and
the order process's compensation, journaled and audited.
"""

from __future__ import annotations

from .engine import ProcessReader, Progress, Reconciler, RunReport
from .findings import Category, Difference, Finding, Fix, RecordRef, Rule, Severity

__all__ = [
    "Category",
    "Difference",
    "Finding",
    "Fix",
    "ProcessReader",
    "Progress",
    "Reconciler",
    "RecordRef",
    "Rule",
    "RunReport",
    "Severity",
]
