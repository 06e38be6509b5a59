"""Reconciliation: where the CRM and the ERP disagree, with the evidence and the fix.

    findings = await reconcile(crm, erp)             # every category
    findings = await reconcile(crm, erp, categories={"product_without_item"})

Each category (checks.py) is a precise rule over both systems, read through the ports a page
at a time and batched by key (a run's memory and calls grow with the pages, never with a
whole table in one request). A finding (findings.py) names the records on each side, the
values that disagree, a severity, the suggested fix and who must act.
"""

from resolvers.reconcile.checks import CHECKS, reconcile
from resolvers.reconcile.findings import Finding, Severity

__all__ = ["CHECKS", "Finding", "Severity", "reconcile"]
