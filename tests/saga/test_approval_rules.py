from __future__ import annotations

from decimal import Decimal

import pytest

from resolvers.saga.approval import ApprovalFacts, ApprovalRules, Decision, decide


def facts(total: str, credit: str | None = "1000", short: tuple[str, ...] = ()) -> ApprovalFacts:
    return ApprovalFacts(Decimal(total), "USD", None if credit is None else Decimal(credit), short)


@pytest.mark.parametrize(
    ("rules", "given", "expected"),
    [
        # within credit, all in stock: the default rules approve
        (ApprovalRules(), facts("900"), Decision.APPROVED),
        # over the remaining credit: held
        (ApprovalRules(), facts("1200"), Decision.PENDING_APPROVAL),
        # a short line holds the order even within credit
        (ApprovalRules(), facts("10", short=("SKU-1",)), Decision.PENDING_APPROVAL),
        # a customer without a credit limit is never auto-approved on credit
        (ApprovalRules(), facts("10", credit=None), Decision.PENDING_APPROVAL),
        # turning the credit check off lets the same order through
        (ApprovalRules(require_credit=False), facts("1200"), Decision.APPROVED),
        # the optional auto-approve ceiling holds big orders that credit would allow
        (
            ApprovalRules(max_auto_approve_total=Decimal("500")),
            facts("900"),
            Decision.PENDING_APPROVAL,
        ),
        # the hard limit rejects outright, whatever the other checks say
        (ApprovalRules(reject_above_total=Decimal("800")), facts("900"), Decision.REJECTED),
    ],
)
def test_rules_decide_from_data(
    rules: ApprovalRules, given: ApprovalFacts, expected: Decision
) -> None:
    assert decide(rules, given).decision is expected


def test_every_applied_rule_reports_a_reason_with_its_outcome() -> None:
    rules = ApprovalRules(max_auto_approve_total=Decimal("500"))
    approval = decide(rules, facts("900", short=("SKU-9",)))
    by_rule = {r.rule: r for r in approval.reasons}
    assert set(by_rule) == {"credit", "stock", "max_auto_approve_total"}
    assert by_rule["credit"].passed
    assert not by_rule["stock"].passed
    assert "SKU-9" in by_rule["stock"].message
    assert not by_rule["max_auto_approve_total"].passed


def test_rules_load_from_configuration_and_refuse_unknown_keys() -> None:
    rules = ApprovalRules.from_mapping({"require_stock": False, "max_auto_approve_total": "250.50"})
    assert rules == ApprovalRules(require_stock=False, max_auto_approve_total=Decimal("250.50"))
    with pytest.raises(ValueError, match="max_total"):
        ApprovalRules.from_mapping({"max_total": 5})
    with pytest.raises(ValueError, match="reject_above_total"):
        ApprovalRules.from_mapping({"reject_above_total": "lots"})
