"""Opaque pagination cursors: base64url JSON that each connector maps onto its own paging.

A client must treat a cursor as a token; the connector that issued it decodes it back into
Zoho `page`/`page_token` or Frappe `limit_start`. A cursor that does not decode is the
caller's mistake (InvalidInput), never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from resolvers.errors import InvalidInput

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
        raise InvalidInput(f"The cursor {cursor[:40]!r} is not valid; {_HINT}.") from exc
    if not isinstance(position, dict) or position.get("k") != kind:
        raise InvalidInput(f"The cursor {cursor[:40]!r} does not belong to this listing ({kind}).")
    return position


def offset_of(position: dict[str, Any]) -> int:
    value = position.get("o", 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput(f"The cursor holds an invalid offset; {_HINT}.")
    return value
