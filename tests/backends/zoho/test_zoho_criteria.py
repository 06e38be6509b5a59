from __future__ import annotations

import pytest

from backends.zoho.criteria import Condition, Group, parse
from backends.zoho.envelopes import ZohoError


def test_a_single_condition_parses_to_field_operator_value() -> None:
    assert parse("(Last_Name:equals:Burns)") == Condition("Last_Name", "equals", ("Burns",))


def test_escaped_parentheses_and_commas_are_literal_in_values() -> None:
    node = parse(r"(Account_Name:equals:Acme \(EU\)\, Ltd)")
    assert node == Condition("Account_Name", "equals", ("Acme (EU), Ltd",))


def test_a_value_may_contain_colons_like_a_datetime() -> None:
    node = parse("(Modified_Time:greater_than:2026-03-01T10:00:00+05:30)")
    assert node == Condition("Modified_Time", "greater_than", ("2026-03-01T10:00:00+05:30",))


def test_in_splits_values_on_unescaped_commas_only() -> None:
    node = parse(r"(Account_Name:in:A\,B,C)")
    assert node == Condition("Account_Name", "in", ("A,B", "C"))


def test_and_or_groups_nest() -> None:
    node = parse("((A:equals:1)and((B:equals:2)or(C:equals:3)))")
    inner = Group("or", (Condition("B", "equals", ("2",)), Condition("C", "equals", ("3",))))
    assert node == Group("and", (Condition("A", "equals", ("1",)), inner))


@pytest.mark.parametrize(
    ("criteria", "problem"),
    [
        ("(Last_Name:equals:Burns", "expected ')'"),  # unbalanced
        ("Last_Name:equals:Burns", "expected '('"),  # no parentheses at all
        ("(Last_Name:Burns)", "field:operator:value"),  # missing operator
        ("(Last_Name:like:Burns)", "unknown operator 'like'"),
        ("((A:equals:1)and(B:equals:2)or(C:equals:3))", "mixing 'and' and 'or'"),
        ("(" + "and".join(["(A:equals:1)"] * 11) + ")", "more than 10 conditions"),
        ("(A:equals:1)xyz", "unexpected text"),
    ],
)
def test_bad_criteria_raise_invalid_query_naming_the_problem(criteria: str, problem: str) -> None:
    with pytest.raises(ZohoError) as caught:
        parse(criteria)
    assert caught.value.code == "INVALID_QUERY"
    assert problem in caught.value.message
