"""Field values as Frappe stores them: defaults for a new row and casts by field type."""

from __future__ import annotations

import json
import math
import secrets
from typing import Any

from .errors import FrappeError
from .meta import DocType, Field

INT64 = range(-(2**63), 2**63)  # what a MariaDB BIGINT (and SQLite INTEGER) holds
DECIMAL_LIMIT = 1e12  # Frappe stores Float/Currency/Percent as decimal(21,9): 12 integer digits

_SERVER_SET = frozenset(
    {"name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "doctype",
     "parent", "parentfield", "parenttype"}
)  # fmt: skip


def blank_row(d: DocType) -> dict[str, Any]:
    """A new row: every field at its default, a fresh hash name (children keep it)."""
    row: dict[str, Any] = {f.name: f.empty() for f in d.fields if f.type != "Table"}
    row.update(name=secrets.token_hex(5), docstatus=0, idx=0)
    return row


def cast_row(d: DocType, body: dict[str, Any]) -> dict[str, Any]:
    """The client-settable fields of `body`, cast to their types. Unknown keys are ignored,
    as Frappe ignores them; a child row may name itself (to keep its identity on update)."""
    out = {
        k: cast(d.by_name[k], v)
        for k, v in body.items()
        if k in d.by_name and k not in _SERVER_SET and d.by_name[k].type != "Table"
    }
    if d.is_child and isinstance(body.get("name"), str):
        out["name"] = body["name"]
    return out


def cast(f: Field, value: Any) -> Any:
    if value is None:
        return None
    if f.type in ("Check", "Int", "Float", "Currency", "Percent"):
        return _number(f, value)
    return value if isinstance(value, str) else _text(f, value)


def _number(f: Field, value: Any) -> float | int:
    if value == "" and f.type not in ("Check", "Int"):
        return 0.0
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    whole = f.type in ("Check", "Int")
    if not math.isfinite(number) or (
        int(number) not in INT64 if whole else abs(number) >= DECIMAL_LIMIT
    ):
        raise FrappeError("ValidationError", f"Invalid value for {f.title}: {value!r}")
    return int(number) if whole else number


def loads(text: str) -> Any:
    """Request JSON. ValueError for what MariaDB could not store either: NaN/Infinity,
    lone surrogates, and nesting too deep to parse (instead of a RecursionError)."""
    try:
        value = json.loads(text, parse_constant=_no_constant)
        json.dumps(value, ensure_ascii=False).encode()
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _text(f: Field, value: Any) -> str:
    if isinstance(value, list | dict):
        raise FrappeError("ValidationError", f"Invalid value for {f.title}: {value!r}")
    return str(value)
