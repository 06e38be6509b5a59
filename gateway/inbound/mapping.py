"""Dialect payloads to `Change` records: a Zoho watch callback, a Frappe webhook body.

Zoho (dialects.md §A.9) names a module, an operation and ids; `affected_values` (when the
channel asked for them) become the change's field hints. The version is unknown (None): the
processor learns it when it re-reads the record.

The Frappe body is the one Crossdock registers (gateway.inbound.registration.webhook_body):
`{"doctype", "name", "modified", "docstatus", "event"}` plus `item_code` and `warehouse`
for a Bin. `modified` (naive, site time) becomes the version in UTC; after_insert is an
insert, on_trash a delete, every other event an update.

A module or DocType Crossdock does not sync yields no change (the call is still accepted).
Anything malformed raises BadPayload, which the receiver answers with 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from resolvers.canonical import parse_naive_datetime
from resolvers.sync.change import Change, Entity, Operation

ZOHO_ENTITIES: dict[str, Entity] = {
    "Accounts": "account",
    "Products": "product",
    "Sales_Orders": "order",
}
ERP_ENTITIES: dict[str, Entity] = {
    "Customer": "customer",
    "Item": "item",
    "Sales Order": "sales_order",
    "Shipment": "shipment",
    "Bin": "stock",
}
ZOHO_OPERATIONS: tuple[Operation, ...] = ("insert", "update", "delete")
FRAPPE_EVENTS = frozenset(
    {
        "after_insert",
        "on_update",
        "on_submit",
        "on_cancel",
        "on_trash",
        "on_update_after_submit",
        "on_change",
    }
)
MAX_IDS = 1000
MAX_NAME = 240


class BadPayload(ValueError):
    """The body is not a notification of this dialect; the message says what is wrong."""


def zoho_changes(body: Any, received_at: datetime) -> list[Change]:
    """The changes one Zoho callback reports (one per id)."""
    if not isinstance(body, Mapping):
        raise BadPayload("the callback body must be a JSON object")
    entity = ZOHO_ENTITIES.get(_text(body, "module"))
    operation = _text(body, "operation")
    if operation not in ZOHO_OPERATIONS:
        raise BadPayload(f"operation must be one of {', '.join(ZOHO_OPERATIONS)}")
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or len(ids) > MAX_IDS:
        raise BadPayload(f"ids must be a list of 1 to {MAX_IDS} record ids")
    if not all(isinstance(i, str) and i.isdigit() and len(i) <= 30 for i in ids):
        raise BadPayload("ids must be Zoho record ids (digit strings)")
    if entity is None:
        return []
    values = _affected_values(body.get("affected_values"))
    return [
        Change(
            system="crm",
            entity=entity,
            record_id=record_id,
            operation=_operation(operation),
            origin="notification",
            received_at=received_at,
            fields=values.get(record_id, {}),
        )
        for record_id in dict.fromkeys(ids)
    ]


def erpnext_change(body: Any, received_at: datetime, tz: ZoneInfo) -> Change | None:
    """The change one Frappe webhook call reports, or None for a DocType not synced."""
    if not isinstance(body, Mapping):
        raise BadPayload("the webhook body must be a JSON object")
    doctype, name, event = _text(body, "doctype"), _text(body, "name"), _text(body, "event")
    if event not in FRAPPE_EVENTS:
        raise BadPayload(f"event must be one of {', '.join(sorted(FRAPPE_EVENTS))}")
    if not name or len(name) > MAX_NAME:
        raise BadPayload(f"name must be a document name of 1 to {MAX_NAME} characters")
    version = parse_naive_datetime(body.get("modified"), tz)
    if version is None:
        raise BadPayload("modified must be a Frappe datetime (YYYY-MM-DD HH:MM:SS.ffffff)")
    entity = ERP_ENTITIES.get(doctype)
    if entity is None:
        return None
    record_id = name
    if entity == "stock":
        item, warehouse = _text(body, "item_code"), _text(body, "warehouse")
        if not item or not warehouse:
            raise BadPayload("a Bin's body must carry item_code and warehouse")
        record_id = f"{item}@{warehouse}"
    operation: Operation = (
        "insert" if event == "after_insert" else "delete" if event == "on_trash" else "update"
    )
    return Change(
        system="erp",
        entity=entity,
        record_id=record_id,
        operation=operation,
        origin="notification",
        received_at=received_at,
        version=version,
    )


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadPayload(f"{key} must be a string")
    return value


def _operation(value: str) -> Operation:
    return "insert" if value == "insert" else "delete" if value == "delete" else "update"


def _affected_values(raw: Any) -> dict[str, dict[str, Any]]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise BadPayload("affected_values must be a list of {record_id, values}")
    found: dict[str, dict[str, Any]] = {}
    for entry in raw:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("values"), Mapping):
            raise BadPayload("affected_values must be a list of {record_id, values}")
        found[str(entry.get("record_id"))] = dict(entry["values"])
    return found
