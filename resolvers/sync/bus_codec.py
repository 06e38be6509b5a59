"""A `Change` as a small JSON message for the change bus across replicas (no pickle).

    data = encode(change, sender="a1b2…", seq=7)   # bytes for Redis XADD
    sender, seq, change = decode(data)             # BadMessage when it is not such a message

The message is a JSON object with a format version (`v`), the sending process's id (`from`,
so a process can skip its own messages), its sequence number for that sender (`seq`, 1, 2, …:
a message sent again after a lost reply is recognised and heard once) and the change:
datetimes as ISO 8601 with their offset (always aware UTC here), `fields` as a JSON object. `fields`
is a hint from a notification (JSON values already); any other value in it (a datetime, a
Decimal) is sent as its text. Decoding checks every field against the `Change` types, so a
message from an unknown or newer sender is refused, never half-read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, cast, get_args

from .change import Change, Entity, Operation, Origin, System

VERSION = 1
MAX_MESSAGE = 1 << 20  # a change whose message would be larger is not sent across replicas

_SYSTEMS = frozenset(get_args(System))
_ENTITIES = frozenset(get_args(Entity))
_OPERATIONS = frozenset(get_args(Operation))
_ORIGINS = frozenset(get_args(Origin))


class BadMessage(ValueError):
    """A bus message that is not a change this version understands."""


def encode(change: Change, *, sender: str, seq: int) -> bytes:
    """The change as compact UTF-8 JSON, tagged with the sending process's id and number."""
    message = {
        "v": VERSION,
        "from": sender,
        "seq": seq,
        "system": change.system,
        "entity": change.entity,
        "record_id": change.record_id,
        "operation": change.operation,
        "origin": change.origin,
        "received_at": _instant(change.received_at),
        "version": None if change.version is None else _instant(change.version),
        "fields": {str(k): _json_value(v) for k, v in change.fields.items()},
    }
    data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(data) > MAX_MESSAGE:
        raise ValueError(f"the message would be {len(data)} bytes, over {MAX_MESSAGE}")
    return data


def decode(data: bytes | str) -> tuple[str, int, Change]:
    """(sender, seq, change) of a message made by `encode`; BadMessage names what is wrong."""
    if len(data) > MAX_MESSAGE:
        raise BadMessage(f"message of {len(data)} bytes is over {MAX_MESSAGE}")
    try:
        message = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadMessage(f"not JSON ({exc})") from None
    if not isinstance(message, dict):
        raise BadMessage("not a JSON object")
    if message.get("v") != VERSION:
        raise BadMessage(f"format version {message.get('v')!r}, this replica reads {VERSION}")
    fields = message.get("fields")
    if not isinstance(fields, dict):
        raise BadMessage("fields must be a JSON object")
    version = message.get("version")
    seq = message.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise BadMessage("seq must be a positive integer")
    change = Change(
        system=cast(System, _choice(message, "system", _SYSTEMS)),
        entity=cast(Entity, _choice(message, "entity", _ENTITIES)),
        record_id=_text(message, "record_id"),
        operation=cast(Operation, _choice(message, "operation", _OPERATIONS)),
        origin=cast(Origin, _choice(message, "origin", _ORIGINS)),
        received_at=_parse_instant(message.get("received_at"), "received_at"),
        version=None if version is None else _parse_instant(version, "version"),
        fields=fields,
    )
    return _text(message, "from"), seq, change


def _instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a change's times must be aware (UTC)")
    return moment.astimezone(UTC).isoformat()


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _text(message: dict[str, Any], key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not value:
        raise BadMessage(f"{key} must be a non-empty string")
    return value


def _choice(message: dict[str, Any], key: str, allowed: frozenset[str]) -> str:
    value = _text(message, key)
    if value not in allowed:
        raise BadMessage(f"{key} {value!r} is not one of {', '.join(sorted(allowed))}")
    return value


def _parse_instant(value: Any, key: str) -> datetime:
    if not isinstance(value, str):
        raise BadMessage(f"{key} must be an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadMessage(f"{key} {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise BadMessage(f"{key} must carry its UTC offset")
    return moment.astimezone(UTC)
