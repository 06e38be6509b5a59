"""`GET /api/resource/{DocType}` parameters → one SQL query (dialects.md §B.2).

Accepts `fields`, `filters`, `or_filters` (list-of-3, list-of-4 and dict forms), `order_by`,
`limit_start`, `limit_page_length` (default 20, 0 = all) and its alias `limit`. Every field
name is checked against the DocType, so SQL identifiers never come from the request.
`method_args` turns the keyword arguments of `frappe.client.get_list` into the same parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .doctypes import DOCTYPES
from .errors import FrappeError
from .meta import DocType
from .values import INT64, loads

OPERATORS = frozenset(
    {"=", "!=", "<", ">", "<=", ">=", "like", "not like", "in", "not in", "between", "is"}
)
_ORDER = re.compile(r"^\s*(?:`?tab[\w ]+`?\.)?`?(\w+)`?(?:\s+(asc|desc))?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ListQuery:
    """A parsed list request: selected columns, WHERE clause with its parameters, paging."""

    columns: tuple[str, ...]
    where: str
    params: tuple[Any, ...]
    order_by: str
    limit: int
    offset: int

    def sql(self, d: DocType) -> tuple[str, tuple[Any, ...]]:
        cols = ", ".join(f'"{c}"' for c in self.columns)
        sql = f"SELECT {cols} FROM {d.table} AS t WHERE {self.where} ORDER BY {self.order_by}"  # noqa: S608
        params = self.params
        if self.limit:
            sql += " LIMIT ? OFFSET ?"
            params += (self.limit, self.offset)
        elif self.offset:
            sql += " LIMIT -1 OFFSET ?"
            params += (self.offset,)
        return sql, params


def parse(d: DocType, args: Mapping[str, str]) -> ListQuery:
    """Parse list query parameters; bad input raises a 417 naming the parameter or field."""
    and_sql, and_params = _conditions(d, _json(args, "filters"), " AND ")
    or_sql, or_params = _conditions(d, _json(args, "or_filters"), " OR ")
    limit = args.get("limit") or args.get("limit_page_length")
    return ListQuery(
        columns=_columns(d, _json(args, "fields")),
        where=f"({and_sql}) AND ({or_sql})",
        params=and_params + or_params,
        order_by=_order_by(d, args.get("order_by") or "modified desc"),
        limit=_int(args, "limit_page_length", "20" if limit is None else limit),
        offset=_int(args, "limit_start", args.get("limit_start") or "0"),
    )


# What frappe.client.get_list takes besides `doctype` (frappe/client.py); `frappe.call` drops
# any other argument, so its `limit` alias is not one of them.
METHOD_ARGS = (
    "fields", "filters", "or_filters", "order_by", "limit_start", "limit_page_length", "parent"
)  # fmt: skip


def method_args(kwargs: Mapping[str, Any]) -> dict[str, str]:
    """get_list's arguments as list parameters: a JSON body's lists and numbers as their JSON
    text (what a query string carries), strings as they are, nulls as not given."""
    return {
        key: value if isinstance(value, str) else json.dumps(value)
        for key in METHOD_ARGS
        if (value := kwargs.get(key)) is not None
    }


def _json(args: Mapping[str, str], param: str) -> Any:
    raw = args.get(param)
    if raw is None or raw == "":
        return None
    try:
        return loads(raw)
    except ValueError:
        if param == "fields" and not raw.lstrip().startswith("["):
            return [f.strip() for f in raw.split(",")]  # frappe also takes "a,b"
        raise FrappeError("ValidationError", f"Invalid JSON in parameter {param}: {raw}") from None


def _int(args: Mapping[str, str], param: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise FrappeError("ValidationError", f"{param} must be an integer, got {raw!r}") from None
    if value < 0 or value not in INT64:
        raise FrappeError("ValidationError", f"{param} must be between 0 and {INT64.stop - 1}")
    return value


def _field(d: DocType, name: Any) -> str:
    if not isinstance(name, str) or not d.has_column(name.strip("`")):
        raise FrappeError("DataError", f"Field not permitted in query: {name}")
    return name.strip("`")


def _columns(d: DocType, fields: Any) -> tuple[str, ...]:
    if fields is None:
        return ("name",)
    if isinstance(fields, str):
        fields = [fields]
    if not isinstance(fields, list) or not fields:
        raise FrappeError("ValidationError", "fields must be a JSON list of field names")
    if "*" in fields:
        return d.columns
    return tuple(dict.fromkeys(_field(d, f) for f in fields))


def _order_by(d: DocType, raw: str) -> str:
    parts = []
    for clause in raw.split(","):
        m = _ORDER.match(clause)
        if not m:
            raise FrappeError("ValidationError", f"Invalid order_by: {raw}")
        parts.append(f'"{_field(d, m[1])}" {(m[2] or "asc").upper()}')
    return ", ".join([*parts, '"name" DESC'])


def _conditions(d: DocType, raw: Any, joiner: str) -> tuple[str, tuple[Any, ...]]:
    items = _normalise(raw)
    if not items:
        return "1 = 1", ()
    sqls: list[str] = []
    params: list[Any] = []
    for item in items:
        sql, values = _condition(d, item)
        sqls.append(sql)
        params.extend(values)
    return joiner.join(sqls), tuple(params)


def _normalise(raw: Any) -> list[list[Any]]:
    if raw is None:
        return []
    if isinstance(raw, dict):
        return [
            [k, v[0], v[1]] if isinstance(v, list) and len(v) == 2 and _is_op(v[0]) else [k, "=", v]
            for k, v in raw.items()
        ]
    if not isinstance(raw, list):
        raise FrappeError("ValidationError", f"Filters must be a list or a dict, got {raw!r}")
    if raw and all(not isinstance(x, list) for x in raw):
        raw = [raw]  # a single filter given as a flat list
    out = []
    for item in raw:
        if not isinstance(item, list) or len(item) not in (2, 3, 4):
            raise FrappeError("ValidationError", f"Invalid filter: {item!r}")
        out.append([item[0], "=", item[1]] if len(item) == 2 else item)
    return out


def _is_op(value: Any) -> bool:
    return isinstance(value, str) and value.lower() in OPERATORS


def _condition(d: DocType, item: list[Any], alias: str = "t") -> tuple[str, list[Any]]:
    if len(item) == 4:
        owner, *item = item
        if owner != d.name:
            return _child_condition(d, owner, item)
    field, op, value = item
    column = _field(d, field)
    if not isinstance(op, str) or op.lower() not in OPERATORS:
        raise FrappeError("ValidationError", f"Invalid operator {op!r} for field {column}")
    return _compare(f'{alias}."{column}"', d.field_type(column), op.lower(), value)


def _child_condition(d: DocType, owner: Any, item: list[Any]) -> tuple[str, list[Any]]:
    child = DOCTYPES.get(owner) if isinstance(owner, str) else None
    if child is None or d.name not in child.parents:
        raise FrappeError("DataError", f"Field not permitted in query: {owner}.{item[0]}")
    sql, params = _condition(child, item, "c")
    return (
        f"EXISTS (SELECT 1 FROM {child.table} AS c "  # noqa: S608
        f"WHERE c.parent = t.name AND c.parenttype = ? AND {sql})",
        [d.name, *params],
    )


def _compare(col: str, ftype: str, op: str, value: Any) -> tuple[str, list[Any]]:
    if op in ("in", "not in"):
        values = [_bindable(v, col) for v in _as_list(value)]
        marks = ", ".join("?" for _ in values) or "NULL"
        if op == "in":
            return f"{col} IN ({marks})", values
        return f"({col} IS NULL OR {col} NOT IN ({marks}))", values
    if op == "between":
        low, high = _between(value, ftype)
        return f"{col} BETWEEN ? AND ?", [_bindable(low, col), _bindable(high, col)]
    if op == "is":
        if value not in ("set", "not set"):
            raise FrappeError(
                "ValidationError", f"Operator 'is' takes 'set' or 'not set', not {value!r}"
            )
        return (f"COALESCE({col}, '') != ''" if value == "set" else f"COALESCE({col}, '') = ''"), []
    if isinstance(value, list | dict):
        raise FrappeError("ValidationError", f"Operator {op!r} takes a single value, not {value!r}")
    if _bindable(value, col) is None:
        return (f"{col} IS NULL" if op in ("=", "like") else f"{col} IS NOT NULL"), []
    if op == "like":
        return f"{col} LIKE ?", [value]
    if op == "not like":
        return f"({col} IS NULL OR {col} NOT LIKE ?)", [value]
    if op == "!=":
        return f"({col} IS NULL OR {col} != ?)", [value]
    return f"{col} {op} ?", [value]


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return value
    return [value]


def _between(value: Any, ftype: str) -> tuple[Any, Any]:
    if not isinstance(value, list) or len(value) != 2:
        raise FrappeError("ValidationError", f"Operator 'between' takes [from, to], not {value!r}")
    low, high = value
    if ftype == "Datetime" and isinstance(high, str) and len(high) == 10:
        high += " 23:59:59.999999"  # Frappe widens a bare end date to the end of that day
    return low, high


def _bindable(value: Any, col: str) -> Any:
    """A filter value SQL can take: a string, a bool, a number in BIGINT range, or null."""
    field = col.rsplit(".", 1)[-1].strip('"')
    if isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
        raise FrappeError("ValidationError", f"Value out of range for {field}: {value}")
    if value is not None and not isinstance(value, str | int | float):
        raise FrappeError("ValidationError", f"Invalid value for {field}: {value!r}")
    return value
