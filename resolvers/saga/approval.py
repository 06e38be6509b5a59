"""Approval rules as data: thresholds and which checks apply, never code paths per customer.

    rules = ApprovalRules(require_credit=True, require_stock=True,
                          max_auto_approve_total=Decimal("10000"), reject_above_total=None)
    approval = decide(rules, ApprovalFacts(total=..., remaining_credit=..., short_skus=()))

Every check that applies reports a reason (passed or not). A failed hold-rule sends the order
to PENDING_APPROVAL; a failed reject-rule rejects it before anything is written.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


class Decision(enum.Enum):
    APPROVED = "APPROVED"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class ApprovalRules:
    """Which checks decide auto-approval, with their thresholds (from configuration)."""

    require_credit: bool = True
    require_stock: bool = True
    max_auto_approve_total: Decimal | None = None
    reject_above_total: Decimal | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ApprovalRules:
        known = {"require_credit", "require_stock", "max_auto_approve_total", "reject_above_total"}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown approval rule(s) {sorted(unknown)}; known: {sorted(known)}")
        return cls(
            require_credit=bool(values.get("require_credit", True)),
            require_stock=bool(values.get("require_stock", True)),
            max_auto_approve_total=_decimal(values, "max_auto_approve_total"),
            reject_above_total=_decimal(values, "reject_above_total"),
        )


def _decimal(values: Mapping[str, Any], key: str) -> Decimal | None:
    raw = values.get(key)
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation as exc:
        raise ValueError(f"approval rule {key} must be a decimal, got {raw!r}") from exc


@dataclass(frozen=True, slots=True)
class ApprovalFacts:
    """What the rules look at, gathered by the validate step."""

    total: Decimal
    currency: str
    remaining_credit: Decimal | None  # None: the customer has no credit limit in the CRM
    short_skus: tuple[str, ...]  # lines no single warehouse can serve in full


@dataclass(frozen=True, slots=True)
class Reason:
    rule: str
    message: str
    passed: bool


@dataclass(frozen=True, slots=True)
class Approval:
    decision: Decision
    reasons: tuple[Reason, ...]


def decide(rules: ApprovalRules, facts: ApprovalFacts) -> Approval:
    rejects = _reject_reasons(rules, facts)
    holds = _hold_reasons(rules, facts)
    reasons = rejects + holds
    if any(not r.passed for r in rejects):
        return Approval(Decision.REJECTED, reasons)
    if any(not r.passed for r in holds):
        return Approval(Decision.PENDING_APPROVAL, reasons)
    return Approval(Decision.APPROVED, reasons)


def _reject_reasons(rules: ApprovalRules, facts: ApprovalFacts) -> tuple[Reason, ...]:
    limit = rules.reject_above_total
    if limit is None:
        return ()
    passed = facts.total <= limit
    word = "within" if passed else "above"
    message = f"total {facts.total} {facts.currency} is {word} the order limit {limit}"
    return (Reason("reject_above_total", message, passed),)


def _hold_reasons(rules: ApprovalRules, facts: ApprovalFacts) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    if rules.require_credit:
        reasons.append(_credit_reason(facts))
    if rules.require_stock:
        reasons.append(_stock_reason(facts))
    if rules.max_auto_approve_total is not None:
        limit = rules.max_auto_approve_total
        passed = facts.total <= limit
        word = "within" if passed else "above"
        message = f"total {facts.total} {facts.currency} is {word} the auto-approve limit {limit}"
        reasons.append(Reason("max_auto_approve_total", message, passed))
    return tuple(reasons)


def _credit_reason(facts: ApprovalFacts) -> Reason:
    if facts.remaining_credit is None:
        return Reason("credit", "the customer has no credit limit in the CRM", False)
    passed = facts.total <= facts.remaining_credit
    word = "within" if passed else "exceeds"
    message = f"total {facts.total} {word} remaining credit {facts.remaining_credit}"
    return Reason("credit", message, passed)


def _stock_reason(facts: ApprovalFacts) -> Reason:
    if not facts.short_skus:
        return Reason("stock", "every line is available in one warehouse", True)
    return Reason("stock", f"not enough stock for {', '.join(facts.short_skus)}", False)
