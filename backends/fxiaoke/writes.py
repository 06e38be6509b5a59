"""Field values a write may carry, checked the way the tenant would (integration-notes §1.3, §1.5).

Money and numbers must be strings (◐ "send them as strings too"); times are epoch-ms
integers; a single-choice field takes one of the describe's option values; a lookup must name
an existing record, and gets its display name in `<field>__r`. Server-kept fields are ignored,
`owner` cannot change through update (use changeOwner, ◐ [X-SK]).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from backends.fxiaoke import envelopes as fx
from backends.fxiaoke.envelopes import FxError, bad_param
from backends.fxiaoke.objects import NUMBER_TYPES, OBJECTS, SYSTEM_FIELDS, TIME_TYPES, ObjectDef
from backends.fxiaoke.store import FxStore

Record = dict[str, Any]


def invalid(message: str) -> FxError:
    return FxError(fx.VALIDATION, f"数据校验失败 {message}")


def object_of(name: Any) -> ObjectDef:
    spec = OBJECTS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise bad_param(f"dataObjectApiName {str(name)[:60]!r} is not one of {sorted(OBJECTS)}")
    return spec


def clean_fields(
    store: FxStore, spec: ObjectDef, data: Mapping[str, Any], *, create: bool
) -> Record:
    """The fields of `data` as stored, each checked; raises FxError naming the first bad one."""
    result: Record = {}
    for name, value in data.items():
        if name in ("dataObjectApiName", "_id") or name in SYSTEM_FIELDS or name.endswith("__r"):
            continue
        if name == "owner":
            if not create:
                raise invalid("owner cannot be changed by update; use data/changeOwner")
            result[name] = value
            continue
        kind = spec.type_of(name)
        if kind is None:
            raise bad_param(f"{spec.api_name} has no field {name}")
        result[name] = _value(spec, name, kind, value)
        if name in spec.lookups and value is not None:
            result[f"{name}__r"] = _lookup_name(store, spec.lookups[name], name, value)
    if create:
        missing = [f for f in spec.required if result.get(f) in (None, "")]
        if missing and not (spec.auto_number in missing and len(missing) == 1):
            raise invalid(f"{spec.api_name} requires {', '.join(missing)}")
    return result


def _value(spec: ObjectDef, name: str, kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind in NUMBER_TYPES:
        if not isinstance(value, str):
            raise invalid(f'{name} must be a number as a string, e.g. "12.50"')
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise invalid(f"{name} {value[:30]!r} is not a number") from None
        if not number.is_finite():
            raise invalid(f"{name} must be finite")
        return value
    if kind in TIME_TYPES:
        if not isinstance(value, int) or isinstance(value, bool):
            raise invalid(f"{name} must be epoch milliseconds (an integer)")
        return value
    if kind == "select_one" and name in spec.options:
        if value not in spec.options[name]:
            raise invalid(f"{name} {str(value)[:40]!r} is not an option value of the field")
        return value
    if kind == "true_or_false":
        if not isinstance(value, bool):
            raise invalid(f"{name} must be true or false")
        return value
    if not isinstance(value, str):
        raise invalid(f"{name} must be a string")
    return value


def _lookup_name(store: FxStore, target: str, name: str, value: Any) -> str:
    found = store.get(target, [value]).get(value)
    if found is None:
        raise invalid(f"{name} {str(value)[:40]!r} is no {target}")
    return str(found.get("name", ""))
