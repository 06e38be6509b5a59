"""Field values as Frappe stores them: defaults for a new row and casts by field type."""

from __future__ import annotations

import secrets
from typing import Any

from .errors import FrappeError
from .meta import DocType, Field

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
    if value is None or f.type not in ("Check", "Int", "Float", "Currency", "Percent"):
        return value if value is None or isinstance(value, str) else _text(f, value)
    try:
        if f.type in ("Check", "Int"):
            return int(float(value)) if not isinstance(value, bool) else int(value)
        return float(value) if value != "" else 0.0
    except (TypeError, ValueError):
        raise FrappeError("ValidationError", f"Invalid value for {f.title}: {value!r}") from None


def _text(f: Field, value: Any) -> str:
    if isinstance(value, list | dict):
        raise FrappeError("ValidationError", f"Invalid value for {f.title}: {value!r}")
    return str(value)
