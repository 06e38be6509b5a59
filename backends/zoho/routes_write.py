"""Write endpoints: insert, update, upsert, delete (dialects.md §A.6, §D.1 item 6).

Every record gets its own result in `data`, in input order. HTTP status: 201 when all were
inserted, 200 when all succeeded otherwise, 207 when some failed, 400 when all failed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backends.zoho.callbacks import RecordChange
from backends.zoho.envelopes import invalid_data, limit_exceeded, required_param
from backends.zoho.fields import Module
from backends.zoho.lines import Subform, apply_totals
from backends.zoho.store import DEFAULT_OWNER, ZohoStore
from backends.zoho.validation import FieldChecker, RecordError, lookup_value, missing

MAX_RECORDS = 100
_UNIQUE_COLUMNS = {"External_Ref": "external_ref"}
_BOOKKEEPING = frozenset({"Modified_Time", "Modified_By"})  # not "affected fields" of an edit
Doc = dict[str, Any]
Result = dict[str, Any]


class Writer:
    """Applies validated writes to the store and reports per-record results."""

    def __init__(self, store: ZohoStore) -> None:
        self.store = store
        self.checker = FieldChecker(store)
        self.subform = Subform(self.checker)
        self.changes: list[RecordChange] = []  # what the writes saved, for the callbacks

    def take_changes(self) -> list[RecordChange]:
        """The records written since the last call (a request's writes: handlers do not
        await between writing and taking)."""
        changes, self.changes = self.changes, []
        return changes

    async def insert(self, request: Request, module: Module) -> Response:
        records, _ = await _records(request)
        return _respond([self._each(i, self._create, module, r) for i, r in enumerate(records)])

    async def update_many(self, request: Request, module: Module) -> Response:
        records, _ = await _records(request)
        results = []
        for index, raw in enumerate(records):
            record_id = raw.get("id") if isinstance(raw, dict) else None
            results.append(
                self._each(index, lambda p, r=raw, i=record_id: self._update_id(module, i, r, p))
            )
        return _respond(results)

    async def update_one(self, request: Request, module: Module, record_id: str) -> Response:
        records, _ = await _records(request)
        return _respond(
            [self._each(0, lambda p: self._update_id(module, record_id, records[0], p))]
        )

    async def upsert(self, request: Request, module: Module) -> Response:
        records, body = await _records(request)
        checks = _duplicate_fields(module, body.get("duplicate_check_fields"))
        return _respond(
            [self._each(i, self._upsert, module, checks, r) for i, r in enumerate(records)]
        )

    def delete(self, module: Module, ids: list[str]) -> Response:
        if not ids:
            raise required_param("ids")
        if len(ids) > MAX_RECORDS:
            raise limit_exceeded("ids", MAX_RECORDS)
        found = self.store.get(module.api_name, ids)
        self.store.delete(module.api_name, [i for i in ids if i in found])
        self.changes += [RecordChange(module.api_name, i, "delete") for i in ids if i in found]
        results = [
            {
                "code": "SUCCESS",
                "status": "success",
                "message": "record deleted",
                "details": {"id": i},
            }
            if i in found
            else RecordError("INVALID_DATA", "the id given seems to be invalid", id=i).result()
            for i in ids
        ]
        return _respond(results)

    def _each(self, index: int, write: Callable[..., Result], *args: Any) -> Result:
        try:
            return write(*args, f"$.data[{index}]")
        except RecordError as error:
            return error.result()

    def _create(self, module: Module, raw: Any, path: str) -> Result:
        fields = self.checker.fields(module, raw, path)
        doc: Doc = {"id": self.store.new_id(), "Owner": dict(DEFAULT_OWNER), **fields}
        if module.api_name == "Sales_Orders":
            doc["SO_Number"] = self.store.next_so_number()
            doc.setdefault("Status", "Created")
        self._finish(module, doc, raw, path, created=True)
        self.changes.append(RecordChange(module.api_name, doc["id"], "insert"))
        return _success(doc, "record added")

    def _update_id(self, module: Module, record_id: Any, raw: Any, path: str) -> Result:
        if record_id in (None, ""):
            raise missing("id", f"{path}.id")
        existing = self.store.get(module.api_name, [str(record_id)]).get(str(record_id))
        if existing is None:
            raise RecordError(
                "INVALID_DATA",
                "the id given seems to be invalid",
                api_name="id",
                json_path=f"{path}.id",
            )
        self._update(module, existing, raw, path)
        return _success(existing, "record updated")

    def _update(self, module: Module, doc: Doc, raw: Any, path: str) -> None:
        before = copy.deepcopy(doc)
        doc.update(self.checker.fields(module, raw, path))
        self._finish(module, doc, raw, path, created=False)
        changed = {
            k: v for k, v in doc.items() if k not in _BOOKKEEPING and before.get(k, None) != v
        }
        self.changes.append(RecordChange(module.api_name, doc["id"], "update", changed))

    def _upsert(self, module: Module, checks: list[str], raw: Any, path: str) -> Result:
        fields = self.checker.fields(module, raw, path)
        for name in checks:
            existing = self._find_duplicate(module, name, fields.get(name))
            if existing is not None:
                self._update(module, existing, raw, path)
                return {
                    **_success(existing, "record updated"),
                    "action": "update",
                    "duplicate_field": name,
                }
        return {**self._create(module, raw, path), "action": "insert", "duplicate_field": None}

    def _finish(self, module: Module, doc: Doc, raw: Any, path: str, *, created: bool) -> None:
        if module.api_name == "Sales_Orders":
            if "Ordered_Items" in raw:
                existing = doc.get("Ordered_Items") or []
                lines_path = f"{path}.Ordered_Items"
                doc["Ordered_Items"] = self.subform.merge(
                    existing, raw["Ordered_Items"], lines_path
                )
            doc.setdefault("Ordered_Items", [])
            apply_totals(doc, raw, lines_changed=created or "Ordered_Items" in raw)
        if module.api_name == "Contacts":
            doc["Full_Name"] = lookup_value("Contacts", doc)["name"]
        self.checker.mandatory(module, doc, path)
        self._check_unique(module, doc, path)
        now = self.store.clock.format(self.store.clock.now_ms())
        editor = {"name": DEFAULT_OWNER["name"], "id": DEFAULT_OWNER["id"]}
        if created:
            doc["Created_Time"], doc["Created_By"] = now, editor
        doc["Modified_Time"], doc["Modified_By"] = now, editor
        self.store.save(module.api_name, doc)

    def _check_unique(self, module: Module, doc: Doc, path: str) -> None:
        for name in module.unique:
            other = self._find_duplicate(module, name, doc.get(name))
            if other is not None and other["id"] != doc["id"]:
                raise RecordError(
                    "DUPLICATE_DATA",
                    "duplicate data",
                    api_name=name,
                    json_path=f"{path}.{name}",
                    duplicate_record={"id": other["id"], "module": {"api_name": module.api_name}},
                )

    def _find_duplicate(self, module: Module, name: str, value: Any) -> Doc | None:
        if value in (None, ""):
            return None
        if isinstance(value, dict):
            where, param = f"json_extract(doc, '$.{name}.id') = ?", value.get("id")
        elif name in _UNIQUE_COLUMNS:
            where, param = f"{_UNIQUE_COLUMNS[name]} = ?", value
        else:
            where, param = f"lower(json_extract(doc, '$.{name}')) = lower(?)", value
        found = self.store.select(module.api_name, where, [param], limit=1)
        return found[0] if found else None


async def _records(request: Request) -> tuple[list[Any], dict[str, Any]]:
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
        raise invalid_data("the request body is not valid JSON") from None
    if not isinstance(body, dict) or "data" not in body:
        raise required_param("data")
    records = body["data"]
    if not isinstance(records, list) or not records:
        raise invalid_data("data must be a non-empty array of records", api_name="data")
    if len(records) > MAX_RECORDS:
        raise limit_exceeded("data", MAX_RECORDS)
    return records, body


def _duplicate_fields(module: Module, given: Any) -> list[str]:
    if given is None:
        return [module.duplicate_check, *module.unique]
    valid = isinstance(given, list) and given and all(isinstance(f, str) for f in given)
    if not valid or any(module.type_of(f) in (None, "subform") for f in given):
        raise invalid_data(
            "duplicate_check_fields must list field API names of the module",
            api_name="duplicate_check_fields",
        )
    return list(given)


def _success(doc: Doc, message: str) -> Result:
    details = {
        key: doc.get(key)
        for key in ("id", "Created_Time", "Modified_Time", "Created_By", "Modified_By")
    }
    details["$approval_state"] = "approved"
    return {"code": "SUCCESS", "status": "success", "message": message, "details": details}


def _respond(results: list[Result]) -> Response:
    ok = [r for r in results if r["status"] == "success"]
    if not ok:
        status = 400
    elif len(ok) < len(results):
        status = 207
    elif all(r["message"] == "record added" for r in ok):
        status = 201
    else:
        status = 200
    return JSONResponse({"data": results}, status_code=status)
