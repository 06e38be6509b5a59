"""Keyset paging over one Frappe DocType: `name > last` in name order, one extra row to know
whether another page exists. Unlike `limit_start`, a row inserted or deleted while a long
scan runs (reconciliation) neither shifts a row past the scan nor shows one twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from resolvers.cursors import decode_cursor, encode_cursor
from resolvers.erpnext.wire import Doc, Filter, FrappeWire
from resolvers.errors import BadCursor, InvalidInput


async def keyset_page(
    wire: FrappeWire,
    doctype: str,
    fields: Sequence[str],
    *,
    first: int,
    after: str | None,
    filters: Sequence[Filter] = (),
) -> tuple[list[Doc], str | None]:
    """Up to `first` rows after the cursor's name, and the cursor of the next page (or None)."""
    if first < 1:
        raise InvalidInput(f"first must be at least 1 (got {first})")
    kind = f"erpnext:{doctype}:names"
    last = decode_cursor(after, kind=kind).get("n")
    if last is not None and not isinstance(last, str):
        raise BadCursor("The cursor holds an invalid name; pass a cursor from the last page.")
    wanted = [*filters, ["name", ">", last]] if last is not None else list(filters)
    rows = await wire.get_list(doctype, fields, wanted, order_by="name asc", limit=first + 1)
    more = len(rows) > first
    rows = rows[:first]
    cursor = encode_cursor({"k": kind, "n": str(rows[-1]["name"])}) if more and rows else None
    return rows, cursor
