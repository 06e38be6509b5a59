"""Reconciliation and cleansing: where the CRM and the ERP disagree, with evidence and a fix.

`Reconciler.run` reads both systems through their ports in pages (resolvers.reconcile.scans)
and applies the rules of seven categories (resolvers.reconcile.rules): missing counterparts,
order mirrors, shipments, drift, reservations, duplicates, order processes. Each finding
(resolvers.reconcile.findings) carries the records on each side, the differing values and a
fix; `Repairer` applies the fixes Crossdock can make safely, through the same connectors and
the order process's compensation, journaled and audited.

    findings = [f async for f in Reconciler(crm, scm).run()]                 # everything
    findings = [f async for f in Reconciler(crm, scm).run(["product_without_item"])]

A finding's public category is its rule's name (`product_without_item`, `stale_draft`, …;
`CATEGORIES`); a run, the CLI and the graph choose categories by those names or by group
(`Category`: `counterparts`, `mirrors`, …), see `rules.select`.
"""

from __future__ import annotations

from .engine import ProcessReader, Progress, Reconciler, RunReport
from .findings import Category, Difference, Finding, Fix, RecordRef, Rule, Severity
from .rules import CATEGORIES, GROUPS, UnknownCategory, select

__all__ = [
    "CATEGORIES",
    "GROUPS",
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
    "UnknownCategory",
    "select",
]
