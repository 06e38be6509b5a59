"""Search criteria: `((Field:op:value)and(Field:op:value))`, parsed and compiled to SQL.

Grammar (dialects.md §A.5): a condition is `(Field:operator:value)`; groups join conditions or
groups with `and` / `or` and may nest. Inside a value `\\(`, `\\)` and `\\,` are literal. At most
10 conditions; `in` takes at most 100 comma-separated values, `between` exactly two.
`equals` is a case-insensitive *contains* on text fields, exact on picklists, lookups, numbers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from backends.zoho.clock import TenantClock
from backends.zoho.envelopes import ZohoError
from backends.zoho.fields import NUMBER_TYPES, TEXT_TYPES, Module

MAX_CONDITIONS = 10
MAX_LENGTH = 3000
MAX_IN_VALUES = 100
COMPARISONS = {"greater_than": ">", "greater_equal": ">=", "less_than": "<", "less_equal": "<="}
OPERATORS = frozenset({"equals", "not_equal", "starts_with", "in", "between", *COMPARISONS})
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?", re.ASCII)
_ORDERED_OPS = frozenset({"equals", "not_equal", "in", "between", *COMPARISONS})
_ALLOWED: dict[str, frozenset[str]] = {
    "text": frozenset({"equals", "not_equal", "starts_with", "in"}),
    "picklist": frozenset({"equals", "not_equal", "in"}),
    "lookup": frozenset({"equals", "not_equal", "in"}),
    "id": frozenset({"equals", "not_equal", "in"}),
    "boolean": frozenset({"equals", "not_equal"}),
    "ordered": _ORDERED_OPS,
}


@dataclass(frozen=True)
class Condition:
    """One `(field:operator:values)` test; `values` are unescaped."""

    field: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    """Conditions or groups joined by one connective."""

    connective: str  # "and" | "or"
    parts: tuple[Condition | Group, ...]


Node = Condition | Group


def invalid_query(message: str, **details: Any) -> ZohoError:
    return ZohoError(400, "INVALID_QUERY", message, details)


def parse(text: str) -> Node:
    """Parse criteria text; raises ZohoError(INVALID_QUERY) naming the problem."""
    if len(text) > MAX_LENGTH:
        raise invalid_query(f"criteria is longer than {MAX_LENGTH} characters")
    parser = _Parser(text.strip())
    node = parser.expression()
    if parser.pos != len(parser.text):
        raise invalid_query(f"unexpected text at position {parser.pos} of the criteria")
    if _count(node) > MAX_CONDITIONS:
        raise invalid_query(f"criteria has more than {MAX_CONDITIONS} conditions")
    return node


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def expression(self) -> Node:
        parts = [self.group()]
        connectives: set[str] = set()
        while (word := self._connective()) is not None:
            connectives.add(word)
            parts.append(self.group())
        if len(connectives) > 1:
            raise invalid_query("mixing 'and' and 'or' in one group needs parentheses")
        if len(parts) == 1:
            return parts[0]
        return Group(connectives.pop(), tuple(parts))

    def group(self) -> Node:
        self._expect("(")
        node = self.expression() if self._peek() == "(" else self._condition()
        self._expect(")")
        return node

    def _condition(self) -> Condition:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] != ")":
            self.pos += 2 if self.text[self.pos] == "\\" else 1
        raw = self.text[start : self.pos]
        pieces = _split(raw, ":", limit=2)
        if len(pieces) != 3 or not pieces[0].strip():
            raise invalid_query(f"condition ({raw}) is not of the form (field:operator:value)")
        field, operator = pieces[0].strip(), pieces[1].strip().lower()
        if operator not in OPERATORS:
            raise invalid_query(f"unknown operator {operator!r} in ({raw})", api_name=field)
        many = operator in ("in", "between")
        values = _split(pieces[2], ",") if many else [pieces[2]]
        return Condition(field, operator, tuple(_unescape(v) for v in values))

    def _connective(self) -> str | None:
        for word in ("and", "or"):
            if self.text[self.pos : self.pos + len(word)].lower() == word:
                self.pos += len(word)
                return word
        return None

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _expect(self, char: str) -> None:
        if self._peek() != char:
            found = repr(self._peek()) if self._peek() else "the end"
            raise invalid_query(f"expected {char!r} at position {self.pos}, found {found}")
        self.pos += 1


def _split(raw: str, sep: str, limit: int = -1) -> list[str]:
    pieces: list[str] = []
    start = i = 0
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] == sep and (limit < 0 or len(pieces) < limit):
            pieces.append(raw[start:i])
            start = i + 1
        i += 1
    pieces.append(raw[start:])
    return pieces


def _unescape(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            i += 1
        out.append(value[i])
        i += 1
    return "".join(out)


def _count(node: Node) -> int:
    if isinstance(node, Condition):
        return 1
    return sum(_count(part) for part in node.parts)


def compile_sql(node: Node, module: Module, clock: TenantClock) -> tuple[str, list[Any]]:
    """A SQL condition over the module table, with its parameters."""
    if isinstance(node, Group):
        compiled = [compile_sql(part, module, clock) for part in node.parts]
        sql = f" {node.connective.upper()} ".join(f"({s})" for s, _ in compiled)
        return sql, [p for _, params in compiled for p in params]
    return _condition_sql(node, module, clock)


def _condition_sql(cond: Condition, module: Module, clock: TenantClock) -> tuple[str, list[Any]]:
    kind = module.type_of(cond.field)
    if kind is None or kind == "subform":
        raise invalid_query(f"invalid field {cond.field!r} in criteria", api_name=cond.field)
    family = _family(kind)
    if cond.operator not in _ALLOWED[family]:
        message = f"operator {cond.operator!r} is not supported for {kind} field {cond.field}"
        raise invalid_query(message, api_name=cond.field)
    _check_arity(cond)
    column = _column(cond.field, kind)
    values = [_coerce(v, kind, cond.field, clock) for v in cond.values]
    if family == "text":
        return _text_sql(column, cond.operator, [str(v).lower() for v in values])
    return _exact_sql(column, cond.operator, values)


def _family(kind: str) -> str:
    if kind in TEXT_TYPES:
        return "text"
    if kind in ("picklist", "lookup", "id", "boolean"):
        return kind
    if kind == "owner":
        return "lookup"
    return "ordered"  # numbers, currency, date, datetime


def _check_arity(cond: Condition) -> None:
    count = len(cond.values)
    if cond.operator == "between" and count != 2:
        raise invalid_query(f"between needs two values in ({cond.field})", api_name=cond.field)
    if cond.operator == "in" and count > MAX_IN_VALUES:
        message = f"in accepts at most {MAX_IN_VALUES} values ({count} given)"
        raise invalid_query(message, api_name=cond.field)
    if any(v == "" for v in cond.values):
        raise invalid_query(f"empty value for {cond.field} in criteria", api_name=cond.field)


def _column(field: str, kind: str) -> str:
    if field in ("Created_Time", "Modified_Time"):
        return "created_ms" if field == "Created_Time" else "modified_ms"
    if field == "id":
        return "id"
    if kind in ("lookup", "owner"):
        return "account_id" if field == "Account_Name" else f"json_extract(doc, '$.{field}.id')"
    return f"json_extract(doc, '$.{field}')"


def _coerce(value: str, kind: str, field: str, clock: TenantClock) -> Any:
    try:
        if kind == "datetime":
            return clock.parse_ms(value)
        if kind in NUMBER_TYPES:
            return _number(value)
        if kind == "boolean":
            return {"true": 1, "false": 0}[value.strip().lower()]
        if kind == "date":
            _ = clock.parse_ms(value + "T00:00:00")
    except (ValueError, KeyError) as exc:
        message = f"value {value!r} is not a valid {kind} for {field}"
        raise invalid_query(message, api_name=field) from exc
    return value


def _number(value: str) -> float:
    """A decimal literal; Python's float() also takes "nan", "inf" and "1_000", Zoho does not."""
    number = float(value) if _NUMBER.fullmatch(value.strip()) else math.nan
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _text_sql(column: str, op: str, values: list[str]) -> tuple[str, list[Any]]:
    lowered = f"lower({column})"
    if op == "equals":  # Zoho: equals on text behaves like contains
        return f"{lowered} LIKE ? ESCAPE '\\'", [f"%{_like(values[0])}%"]
    if op == "starts_with":
        return f"{lowered} LIKE ? ESCAPE '\\'", [f"{_like(values[0])}%"]
    if op == "not_equal":
        return f"({column} IS NULL OR {lowered} <> ?)", [values[0]]
    return f"{lowered} IN ({','.join('?' * len(values))})", list(values)


def _exact_sql(column: str, op: str, values: list[Any]) -> tuple[str, list[Any]]:
    if op == "equals":
        return f"{column} = ?", values
    if op == "not_equal":
        return f"({column} IS NULL OR {column} <> ?)", values
    if op == "in":
        return f"{column} IN ({','.join('?' * len(values))})", values
    if op == "between":
        return f"{column} BETWEEN ? AND ?", values
    return f"{column} {COMPARISONS[op]} ?", values
