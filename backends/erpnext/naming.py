"""How each DocType names a new document (dialects.md §B.5, §B.8.6)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .db import Db
from .errors import FrappeError

if TYPE_CHECKING:
    from .meta import DocType


def base_name(store: Db, d: DocType, doc: dict[str, Any]) -> str:
    """The name before any de-duplication: series counter, key field, or DocType rule."""
    if d.naming.startswith("series:"):
        return store.next_name(d.naming.removeprefix("series:"))
    if d.naming.startswith("field:"):
        return str(doc[d.naming.removeprefix("field:")]).strip()
    if d.name == "Customer":
        return str(doc["customer_name"]).strip()
    if d.name == "Address":
        return f"{str(doc.get('address_title') or '').strip()}-{doc.get('address_type')}"
    if d.name == "Warehouse":
        return f"{str(doc['warehouse_name']).strip()} - {_abbr(store, doc.get('company'))}"
    return str(doc["name"])


def new_name(store: Db, d: DocType, doc: dict[str, Any]) -> str:
    """The name of a document created over REST; Customer and Address de-duplicate."""
    name = base_name(store, d, doc)
    if d.name not in ("Customer", "Address"):
        return name
    separator = " - " if d.name == "Customer" else "-"
    candidate, n = name, 0
    while store.exists(d.name, candidate):
        n += 1
        candidate = f"{name}{separator}{n}"
    return candidate


def _abbr(store: Db, company: Any) -> str:
    rows = store.query('SELECT abbr FROM "tabCompany" WHERE name = ?', (company,))
    if not rows:
        raise FrappeError("LinkValidationError", f"Could not find Company: {company}")
    return str(rows[0]["abbr"])
