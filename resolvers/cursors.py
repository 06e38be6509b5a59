"""Opaque pagination cursors: base64url JSON that each connector maps onto its own paging.

A client never sees these directly: they travel inside the signed cursors of
`schema.cursor_key`. The connector that issued one decodes it back into Zoho
`page`/`page_token` or Frappe `limit_start`. One that does not decode is BadCursor, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from resolvers.errors import BadCursor

_HINT = "pass a cursor from pageInfo.endCursor"


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, kind: str) -> dict[str, Any]:
    """The position a cursor names; `kind` ties a cursor to the listing that issued it."""
    if cursor is None:
        return {"k": kind}
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError) as exc:  # RecursionError: nested JSON
        raise BadCursor(f"The cursor {cursor[:40]!r} is not valid; {_HINT}.") from exc
    if not isinstance(position, dict) or position.get("k") != kind:
        raise BadCursor(f"The cursor {cursor[:40]!r} does not belong to this listing ({kind}).")
    return position


def offset_of(position: dict[str, Any]) -> int:
    value = position.get("o", 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadCursor(f"The cursor holds an invalid offset; {_HINT}.")
    return value
