"""The `/cgi/crm/v2/data/*` verbs and `object/describe`, on the `data` part of a request.

Each method takes the decoded request body and returns the payload merged into the success
envelope, or raises FxError. Writes honour `triggerApprovalFlow`/`triggerWorkFlow` (both
true by default, ◐): the emulation counts the flows a write would have started in
`flows_started`, so a test can tell that an integration write asked for none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from backends.fxiaoke import envelopes as fx
from backends.fxiaoke.envelopes import FxError, bad_param
from backends.fxiaoke.objects import OBJECTS, ORDER_LINE, SALES_ORDER
from backends.fxiaoke.query import parse, project
from backends.fxiaoke.store import FxStore
from backends.fxiaoke.writes import clean_fields, invalid, object_of

Record = dict[str, Any]


def _data(body: Mapping[str, Any]) -> Mapping[str, Any]:
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise bad_param("data must be an object")
    return data


class DataVerbs:
    """Query, get, create, update, invalid and describe over one store."""

    def __init__(self, store: FxStore, now_ms: Callable[[], int]) -> None:
        self.store, self.now_ms = store, now_ms
        self.flows_started = 0

    def query(self, body: Mapping[str, Any]) -> Record:
        data = _data(body)
        spec = object_of(data.get("dataObjectApiName"))
        q = parse(spec, data.get("search_query_info"))
        rows = self.store.select(spec.api_name, q.where, q.params, q.order_by, q.limit, q.offset)
        with_total = data.get("find_explicit_total_num", True) is not False
        total = self.store.count_where(spec.api_name, q.where, q.params) if with_total else 0
        items = [project(r, q.projection) for r in rows]
        return {"data": {"dataList": items, "total": total, "offset": q.offset, "limit": q.limit}}

    def get(self, body: Mapping[str, Any]) -> Record:
        data = _data(body)
        spec = object_of(data.get("dataObjectApiName"))
        record_id = data.get("objectDataId")
        if not isinstance(record_id, str):
            raise bad_param("objectDataId must be a string")
        found = self.store.get(spec.api_name, [record_id]).get(record_id)
        if found is None:
            raise FxError(fx.NOT_FOUND, f"数据不存在 no {spec.api_name} {record_id[:40]}")
        return {"data": project(found, None)}

    def create(self, body: Mapping[str, Any]) -> Record:
        data = _data(body)
        object_data = data.get("object_data")
        if not isinstance(object_data, Mapping):
            raise bad_param("data.object_data must be an object")
        spec = object_of(object_data.get("dataObjectApiName"))
        record = clean_fields(self.store, spec, object_data, create=True)
        lines = self._lines(spec.api_name, data.get("details"))
        if spec is SALES_ORDER:
            _totals(record, lines)
        self._count_flows(body)
        now = self.now_ms()
        try:
            record_id = self.store.insert(spec.api_name, [record], now_ms=now)[0]
        except sqlite3.IntegrityError:
            unique = ", ".join(spec.unique)
            raise FxError(
                fx.DUPLICATE, f"数据重复 a {spec.api_name} with this {unique} exists"
            ) from None
        if lines:
            order_name = self.store.get(spec.api_name, [record_id])[record_id].get("name")
            for line in lines:
                line |= {"order_id": record_id, "order_id__r": order_name}
            self.store.insert(ORDER_LINE.api_name, lines, now_ms=now)
        return {"dataId": record_id}

    def update(self, body: Mapping[str, Any]) -> Record:
        data = _data(body)
        object_data = data.get("object_data")
        if not isinstance(object_data, Mapping):
            raise bad_param("data.object_data must be an object")
        spec = object_of(object_data.get("dataObjectApiName"))
        record_id = object_data.get("_id")
        found = (
            self.store.get(spec.api_name, [record_id]).get(record_id)
            if isinstance(record_id, str)
            else None
        )
        if found is None:
            raise FxError(fx.NOT_FOUND, f"数据不存在 no {spec.api_name} {str(record_id)[:40]}")
        changes = clean_fields(self.store, spec, object_data, create=False)
        self._count_flows(body)
        self._save(spec.api_name, found | changes)
        return {"data": {"_id": record_id}}

    def invalidate(self, body: Mapping[str, Any]) -> Record:
        data = _data(body)
        spec = object_of(data.get("dataObjectApiName"))
        record_id = data.get("object_data_id")
        found = (
            self.store.get(spec.api_name, [record_id]).get(record_id)
            if isinstance(record_id, str)
            else None
        )
        if found is None:
            raise FxError(fx.NOT_FOUND, f"数据不存在 no {spec.api_name} {str(record_id)[:40]}")
        self._save(spec.api_name, found | {"life_status": "invalid"})
        return {}

    def describe(self, body: Mapping[str, Any]) -> Record:
        # Legacy clients send apiName at the top level; newer ones inside `data` (◐).
        data = body.get("data") if isinstance(body.get("data"), Mapping) else body
        assert isinstance(data, Mapping)
        api_name = data.get("apiName")
        spec = OBJECTS.get(api_name) if isinstance(api_name, str) else None
        if spec is None:
            raise bad_param(f"apiName must be one of {sorted(OBJECTS)}")
        described: Record = {"describe": spec.describe()}
        if spec is SALES_ORDER and data.get("includeDetail"):
            described["details"] = [ORDER_LINE.describe()]
        return {"data": described}

    def _lines(self, api_name: str, details: Any) -> list[Record]:
        if details is None:
            return []
        rows = details.get(ORDER_LINE.api_name) if isinstance(details, Mapping) else None
        if api_name != SALES_ORDER.api_name or not isinstance(rows, list):
            raise bad_param('details must be {"SalesOrderProductObj": [...]} on a SalesOrderObj')
        lines = []
        for row in rows:
            if not isinstance(row, Mapping):
                raise bad_param("each SalesOrderProductObj detail must be an object")
            fields = {k: v for k, v in row.items() if k != "order_id"}  # the server links it
            line = clean_fields(self.store, ORDER_LINE, fields, create=False)
            if not line.get("product_id") or not line.get("quantity"):
                raise invalid("SalesOrderProductObj requires product_id and quantity")
            price = Decimal(line.get("sales_price") or line.get("product_price") or "0")
            line.setdefault("subtotal", str(price * Decimal(line["quantity"])))
            lines.append(line)
        return lines

    def _count_flows(self, body: Mapping[str, Any]) -> None:
        for flag in ("triggerApprovalFlow", "triggerWorkFlow"):
            if body.get(flag, True) is not False:
                self.flows_started += 1

    def _save(self, api_name: str, record: Record) -> None:
        record["last_modified_time"] = max(self.now_ms(), int(record["last_modified_time"]) + 1)
        record["version"] = str(int(record.get("version") or "1") + 1)
        self.store.replace(api_name, record)


def _totals(order: Record, lines: list[Record]) -> None:
    if lines and order.get("product_amount") is None:
        order["product_amount"] = str(sum(Decimal(line["subtotal"]) for line in lines))
    if order.get("order_amount") is None:
        tax = Decimal(order.get("field_tax_amount__c") or "0")
        order["order_amount"] = str(Decimal(order.get("product_amount") or "0") + tax)
