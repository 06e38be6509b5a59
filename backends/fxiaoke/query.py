"""`search_query_info` to SQL: filters, orders, limit, offset (integration-notes §1.4).

    {"limit": 100, "offset": 0,
     "filters": [{"field_name": "_id", "field_values": ["65f0…"], "operator": "GT"}],
     "orders": [{"fieldName": "_id", "isAsc": true}],
     "fieldProjection": ["_id", "name"]}

`field_values` is always a list of strings, numbers and times too; filters are ANDed.
`limit` is at most 100 and `offset` a multiple of it, at most 10,000 (past it: 10013 with
"offset out of range 10000"). Voided records (`life_status` invalid) are left out unless a
filter names `life_status` (❓: undocumented).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backends.fxiaoke import envelopes as fx
from backends.fxiaoke.envelopes import FxError, bad_param
from backends.fxiaoke.objects import NUMBER_TYPES, TIME_TYPES, ObjectDef

MAX_LIMIT = 100
MAX_OFFSET = 10_000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
Clause = tuple[str, list[Any]]


@dataclass(frozen=True)
class Query:
    where: str
    params: list[Any]
    order_by: str
    limit: int
    offset: int
    projection: tuple[str, ...] | None


def parse(spec: ObjectDef, info: Any) -> Query:
    if not isinstance(info, Mapping):
        raise bad_param("search_query_info must be an object")
    limit, offset = _paging(info)
    clauses: list[Clause] = [_filter(spec, f) for f in _list(info, "filters")]
    names = {f.get("field_name") for f in _list(info, "filters")}
    if "life_status" not in names:
        clauses.append(("coalesce(json_extract(doc, '$.life_status'), 'normal') <> 'invalid'", []))
    where = " AND ".join(c for c, _ in clauses) or "1"
    params = [p for _, ps in clauses for p in ps]
    return Query(where, params, _orders(spec, info), limit, offset, _projection(spec, info))


def project(record: Mapping[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    """The record as `data/query` shows it: null fields omitted, cut to the projection."""
    if fields is None:
        return {k: v for k, v in record.items() if v is not None}
    keep = {"_id", *fields, *(f"{f}__r" for f in fields)}
    return {k: v for k, v in record.items() if k in keep and v is not None}


def _paging(info: Mapping[str, Any]) -> tuple[int, int]:
    limit, offset = info.get("limit", 20), info.get("offset", 0)
    if not _is_int(limit) or not 1 <= limit <= MAX_LIMIT:
        raise bad_param(f"limit must be an integer from 1 to {MAX_LIMIT}")
    if not _is_int(offset) or offset < 0:
        raise bad_param("offset must be a non-negative integer")
    if offset > MAX_OFFSET:
        raise FxError(fx.OFFSET_OUT_OF_RANGE, "offset out of range 10000", "offset 不能超过10000")
    if offset % limit:
        raise bad_param("offset must be a multiple of limit")
    return limit, offset


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _list(info: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = info.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise bad_param(f"{key} must be a list of objects")
    return items


def _column(spec: ObjectDef, name: Any) -> tuple[str, bool]:
    """The SQL expression of a field, and whether it compares as a number."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise bad_param(f"field_name {str(name)[:60]!r} is not a field name")
    if name == "_id":
        return "_id", False
    base = name.removesuffix("__r")
    kind = spec.type_of(base)
    if kind is None:
        raise bad_param(f"{spec.api_name} has no field {name}")
    numeric = name == base and (kind in NUMBER_TYPES or kind in TIME_TYPES)
    expression = f"json_extract(doc, '$.{name}')"
    return (f"CAST({expression} AS REAL)" if numeric else expression), numeric


def _values(entry: Mapping[str, Any], numeric: bool) -> list[Any]:
    values = entry.get("field_values")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise bad_param("field_values must be a list of strings (numbers and times too)")
    if not numeric:
        return list(values)
    try:
        return [float(v) for v in values]
    except ValueError:
        raise bad_param(f"field_values {values[:3]} must be numbers for this field") from None


def _filter(spec: ObjectDef, entry: Mapping[str, Any]) -> Clause:
    column, numeric = _column(spec, entry.get("field_name"))
    operator = entry.get("operator", "EQ")
    build = _OPERATORS.get(operator) if isinstance(operator, str) else None
    if build is None:
        raise bad_param(f"operator {str(operator)[:20]!r} is not one of {sorted(_OPERATORS)}")
    values = _values(entry, numeric)
    if operator not in ("IS", "ISN", "IN", "NIN") and len(values) != 1:
        raise bad_param(f"operator {operator} takes one value in field_values")
    if operator in ("IN", "NIN") and not values:
        raise bad_param(f"operator {operator} needs at least one value")
    return build(column, values)


def _compare(op: str) -> Callable[[str, Sequence[Any]], Clause]:
    return lambda col, vs: (f"{col} {op} ?", [vs[0]])


def _pattern(template: str, negate: bool = False) -> Callable[[str, Sequence[Any]], Clause]:
    def build(col: str, vs: Sequence[Any]) -> Clause:
        escaped = str(vs[0]).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql = f"{col} {'NOT ' if negate else ''}LIKE ? ESCAPE '\\'"
        return (f"({col} IS NULL OR {sql})" if negate else sql), [template.format(escaped)]

    return build


def _members(negate: bool) -> Callable[[str, Sequence[Any]], Clause]:
    def build(col: str, vs: Sequence[Any]) -> Clause:
        marks = ",".join("?" * len(vs))
        if negate:
            return f"({col} IS NULL OR {col} NOT IN ({marks}))", list(vs)
        return f"{col} IN ({marks})", list(vs)

    return build


_OPERATORS: dict[str, Callable[[str, Sequence[Any]], Clause]] = {
    "EQ": _compare("="),
    "N": lambda col, vs: (f"({col} IS NULL OR {col} <> ?)", [vs[0]]),
    "GT": _compare(">"),
    "GTE": _compare(">="),
    "LT": _compare("<"),
    "LTE": _compare("<="),
    "LIKE": _pattern("%{}%"),
    "NLIKE": _pattern("%{}%", negate=True),
    "STARTWITH": _pattern("{}%"),
    "ENDWITH": _pattern("%{}"),
    "IN": _members(negate=False),
    "NIN": _members(negate=True),
    "IS": lambda col, vs: (f"({col} IS NULL OR {col} = '')", []),
    "ISN": lambda col, vs: (f"({col} IS NOT NULL AND {col} <> '')", []),
}


def _orders(spec: ObjectDef, info: Mapping[str, Any]) -> str:
    parts = []
    for entry in _list(info, "orders"):
        column, _ = _column(spec, entry.get("fieldName"))
        parts.append(f"{column} {'ASC' if entry.get('isAsc', True) is not False else 'DESC'}")
    return ", ".join([*parts, "_id ASC"])


def _projection(spec: ObjectDef, info: Mapping[str, Any]) -> tuple[str, ...] | None:
    fields = info.get("fieldProjection")
    if fields is None:
        return None
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise bad_param("fieldProjection must be a list of field names")
    unknown = [f for f in fields if f != "_id" and spec.type_of(f) is None]
    if unknown:
        raise bad_param(f"{spec.api_name} has no field(s) {unknown[:5]}")
    return tuple(fields)
