"""Per-record write validation: field types, mandatory fields, lookups (dialects.md §A.6).

Errors are per record and sit in the `data[i]` of the write response, in input order:
`{"code":"INVALID_DATA","status":"error","message":…,"details":{"api_name","json_path",…}}`.
"""

from __future__ import annotations

import math
import re
from typing import Any

from backends.zoho.clock import TenantClock
from backends.zoho.fields import SYSTEM_FIELDS, FieldType, Module
from backends.zoho.store import DEFAULT_OWNER, ZohoStore

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")  # an ISO 4217 code
_MAX_TEXT = {"textarea": 32000}
MAX_NUMBER = 1e15  # Zoho currency fields hold at most 16 digits; also keeps NaN/inf out
_DISPLAY_FIELD = {"Accounts": "Account_Name", "Products": "Product_Name", "Contacts": "Full_Name"}


class RecordError(Exception):
    """One record failed; becomes that record's entry in the response `data` array."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def result(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": "error",
            "message": self.message,
            "details": self.details,
        }


def invalid(api_name: str, path: str, expected: str | None = None) -> RecordError:
    details: dict[str, Any] = {"api_name": api_name, "json_path": path}
    if expected is not None:
        details["expected_data_type"] = expected
    return RecordError("INVALID_DATA", "invalid data", **details)


def missing(api_name: str, path: str) -> RecordError:
    return RecordError(
        "MANDATORY_NOT_FOUND", "required field not found", api_name=api_name, json_path=path
    )


class FieldChecker:
    """Checks and normalises the fields of incoming records against a module's metadata."""

    def __init__(self, store: ZohoStore) -> None:
        self.store = store
        self.clock: TenantClock = store.clock

    def fields(self, module: Module, raw: Any, path: str) -> dict[str, Any]:
        """The cleaned fields of one record (system fields and `$` keys dropped)."""
        if not isinstance(raw, dict):
            raise RecordError("INVALID_DATA", "the record must be a JSON object", json_path=path)
        cleaned: dict[str, Any] = {}
        for name, value in raw.items():
            if name.startswith("$") or name in SYSTEM_FIELDS or module.type_of(name) == "subform":
                continue
            kind = module.type_of(name)
            if kind is None:
                raise RecordError(
                    "INVALID_DATA", "invalid field", api_name=name, json_path=f"{path}.{name}"
                )
            if value is None or value == "":
                if name in module.mandatory:
                    raise missing(name, f"{path}.{name}")
                cleaned[name] = None
                continue
            cleaned[name] = self.value(module, name, kind, value, f"{path}.{name}")
        return cleaned

    def mandatory(self, module: Module, doc: dict[str, Any], path: str) -> None:
        for name in module.mandatory:
            if doc.get(name) in (None, ""):
                raise missing(name, f"{path}.{name}")

    def value(self, module: Module, name: str, kind: FieldType, value: Any, path: str) -> Any:
        if kind == "lookup":
            return self.lookup(module.lookups.get(name, ""), name, value, path)
        if kind == "owner":
            if not isinstance(value, dict):
                raise invalid(name, path, "lookup")
            return dict(DEFAULT_OWNER)
        return self.scalar(name, kind, value, path, module.picklists.get(name))

    def scalar(
        self, name: str, kind: FieldType, value: Any, path: str, options: tuple[str, ...] | None
    ) -> Any:
        if kind == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) < MAX_NUMBER
        elif kind in ("double", "currency"):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and math.isfinite(value) and abs(value) < MAX_NUMBER
        elif kind == "boolean":
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, str) and len(value) <= _MAX_TEXT.get(kind, 255)
            ok = ok and self._text_ok(name, kind, value, options)
        if not ok:
            raise invalid(name, path, _expected(kind))
        return value

    def _text_ok(
        self, name: str, kind: FieldType, value: str, options: tuple[str, ...] | None
    ) -> bool:
        if kind == "email":
            return bool(_EMAIL.match(value))
        if kind == "date":
            return bool(_DATE.match(value))
        if kind == "datetime":
            try:
                self.clock.parse_ms(value)
            except ValueError:
                return False
            return True
        if name == "Currency":
            return bool(_CURRENCY.match(value))
        return options is None or value in options

    def lookup(self, target: str, name: str, value: Any, path: str) -> dict[str, Any]:
        """A lookup given as `{"id": …}` becomes `{"name", "id"}`; unknown ids are INVALID_DATA."""
        record_id = value.get("id") if isinstance(value, dict) else None
        if not isinstance(record_id, str | int) or isinstance(record_id, bool):
            raise invalid(name, path, "jsonobject")
        found = self.store.get(target, [str(record_id)]).get(str(record_id)) if target else None
        if found is None:
            raise RecordError(
                "INVALID_DATA", "the id given seems to be invalid", api_name=name, json_path=path
            )
        return lookup_value(target, found)


def lookup_value(module: str, record: dict[str, Any]) -> dict[str, Any]:
    if module == "Contacts":
        parts = (record.get("First_Name"), record.get("Last_Name"))
        name = " ".join(p for p in parts if p)
    else:
        name = str(record.get(_DISPLAY_FIELD.get(module, "id")) or "")
    value: dict[str, Any] = {"name": name, "id": record["id"]}
    if module == "Products":
        value["Product_Code"] = record.get("Product_Code")
    return value


def _expected(kind: FieldType) -> str:
    return {"currency": "double", "website": "website", "textarea": "textarea"}.get(kind, kind)
