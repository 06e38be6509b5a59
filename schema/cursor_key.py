"""Signed connection cursors: a client can hand back only a cursor the gateway issued, on the
connection and with the arguments it was issued for.

    key = CursorKey.from_setting(settings.graphql.cursor_key)   # None: a key for this process
    cursor = key.seal("Query.orders|{...filters}", {"a": source, "o": offset})
    position = key.open("Query.orders|{...filters}", cursor)    # BadCursor if anything differs

A cursor is `<payload>.<tag>`: base64url JSON of the position (the connector's page token
and the offset into that page) and the first 16 bytes of HMAC-SHA256 over the *binding* and
the payload. The binding (the connection's coordinate, its parent and its filter arguments)
is not in the cursor: a cursor from another connection, another parent or other filters has a
tag that does not match, exactly like an altered one, and nothing about the filters leaks.
Offsets and page sizes forwarded to the backends therefore only ever come from the gateway.

The key is `[graphql] cursor_key` (CROSSDOCK_CURSOR_KEY); replicas behind one load balancer
must share it. Unset, each process makes its own random key: cursors then work within that
process only (demo, tests, one instance), and a restart invalidates them (BAD_CURSOR).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any

from resolvers.errors import BadCursor

MIN_KEY_CHARS = 32
_TAG_BYTES = 16  # HMAC-SHA256 truncated to 128 bits (RFC 2104 §5 allows at least half)
_MAX_CURSOR_CHARS = 4096  # an issued cursor is far shorter; longer text is not one of ours
_HINT = (
    "pass pageInfo.endCursor or an edge cursor from the same connection with the same "
    "arguments (a cursor is bound to its connection, its filters and the gateway's key)"
)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorKey:
    """Seals positions into cursors and opens them again; one per process (or configured)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_KEY_CHARS:
            raise ValueError(f"a cursor key needs at least {MIN_KEY_CHARS} bytes")
        self._secret = secret

    def __repr__(self) -> str:
        return "CursorKey(<hidden>)"

    @classmethod
    def generate(cls) -> CursorKey:
        """A random key for this process only."""
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_setting(cls, configured: str | None) -> CursorKey:
        """The configured key, or the process's own one when none is configured."""
        return PROCESS_KEY if configured is None else cls(configured.encode())

    def _tag(self, binding: str, payload: str) -> bytes:
        message = f"{binding}\n{payload}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:_TAG_BYTES]

    def seal(self, binding: str, position: dict[str, Any]) -> str:
        """The cursor for `position` on the connection that `binding` names."""
        payload = _b64(json.dumps(position, separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{_b64(self._tag(binding, payload))}"

    def open(self, binding: str, cursor: str, *, argument: str = "after") -> dict[str, Any]:
        """The position sealed in `cursor`; BadCursor when it was altered, issued for another
        connection or other arguments, signed with another key, or is no cursor at all."""
        payload, dot, tag = cursor.partition(".")
        try:
            valid = (
                bool(dot)
                and len(cursor) <= _MAX_CURSOR_CHARS
                and hmac.compare_digest(_unb64(tag), self._tag(binding, payload))
            )
            position = json.loads(_unb64(payload)) if valid else None
        except (binascii.Error, ValueError, RecursionError):
            position = None
        if not isinstance(position, dict):
            raise BadCursor(f"{argument} is not a cursor of this connection; {_HINT}.", argument)
        return position


def binding(coordinate: str, **arguments: Any) -> str:
    """What a cursor is bound to: `Type.field` and the arguments that choose the rows
    (filters, the parent's id), never `first` or `after`."""
    chosen = {name: value for name, value in arguments.items() if value is not None}
    return f"{coordinate}|{json.dumps(chosen, separators=(',', ':'), sort_keys=True, default=str)}"


PROCESS_KEY = CursorKey.generate()
