"""/hooks/zoho and /hooks/erpnext: only the backends' own calls are put, anything else is
refused with 4xx (never 5xx) and puts nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from backends.erpnext.webhooks import signature
from tests.inbound.conftest import CHANNEL, ERP_SECRET, ZOHO_TOKEN, SpySink


def zoho_callback(**overrides: Any) -> dict[str, Any]:
    body = {
        "server_time": 1718115953625,
        "query_params": {},
        "module": "Accounts",
        "resource_uri": "https://www.zohoapis.com/crm/v2/Accounts",
        "ids": ["5725767000000100101", "5725767000000100102"],
        "affected_fields": [{"5725767000000100101": ["Phone"]}],
        "affected_values": [{"record_id": "5725767000000100101", "values": {"Phone": "+49 1"}}],
        "operation": "update",
        "channel_id": CHANNEL,
        "token": ZOHO_TOKEN,
    }
    body.update(overrides)
    return body


def frappe_body(**overrides: Any) -> bytes:
    body = {
        "doctype": "Shipment",
        "name": "SHIPMENT-00042",
        "modified": "2026-03-05 10:00:00.000000",
        "docstatus": 1,
        "event": "on_update_after_submit",
    }
    body.update(overrides)
    return json.dumps(body).encode()


def signed(raw: bytes, secret: str = ERP_SECRET) -> dict[str, str]:
    return {"X-Frappe-Webhook-Signature": signature(secret, raw)}


async def test_a_zoho_callback_becomes_one_change_per_id(
    hooks: httpx.AsyncClient, sink: SpySink
) -> None:
    reply = await hooks.post("/hooks/zoho", json=zoho_callback())
    assert reply.status_code == 200
    assert reply.json() == {"accepted": 2}
    first, second = sink.changes
    assert (first.system, first.entity, first.operation, first.origin) == (
        "crm",
        "account",
        "update",
        "notification",
    )
    assert first.record_id == "5725767000000100101"
    assert first.fields == {"Phone": "+49 1"}
    assert second.fields == {}
    assert first.version is None  # Zoho names ids, not times: learnt when re-read


async def test_a_frappe_webhook_becomes_a_change_with_its_version_in_utc(
    hooks: httpx.AsyncClient, sink: SpySink
) -> None:
    raw = frappe_body()
    reply = await hooks.post("/hooks/erpnext", content=raw, headers=signed(raw))
    assert reply.status_code == 200
    [change] = sink.changes
    assert (change.system, change.entity, change.record_id, change.operation) == (
        "erp",
        "shipment",
        "SHIPMENT-00042",
        "update",
    )
    assert change.version == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # Berlin is UTC+1 in March


async def test_a_bin_is_a_stock_change_keyed_by_item_and_warehouse(
    hooks: httpx.AsyncClient, sink: SpySink
) -> None:
    raw = frappe_body(
        doctype="Bin",
        name="MAT-BIN-2026-00001",
        event="on_change",
        item_code="SKU-1",
        warehouse="Stores - AC",
    )
    await hooks.post("/hooks/erpnext", content=raw, headers=signed(raw))
    assert [(c.entity, c.record_id) for c in sink.changes] == [("stock", "SKU-1@Stores - AC")]


@pytest.mark.parametrize(
    ("doctype", "event", "entity", "operation"),
    [
        ("Customer", "after_insert", "customer", "insert"),  # created
        ("Item", "on_trash", "item", "delete"),  # deleted
        ("Sales Order", "on_cancel", "sales_order", "update"),  # a status change is an update
    ],
)
async def test_frappe_events_map_to_operations(
    hooks: httpx.AsyncClient, sink: SpySink, doctype: str, event: str, entity: str, operation: str
) -> None:
    raw = frappe_body(doctype=doctype, name="X-1", event=event)
    await hooks.post("/hooks/erpnext", content=raw, headers=signed(raw))
    assert [(c.entity, c.operation) for c in sink.changes] == [(entity, operation)]


# each row: a forged or missing credential, the status, and why
FORGED_ZOHO = [
    ({"token": "guessed-token-0123456789"}, 403),  # a wrong token
    ({"channel_id": "1000000068002"}, 403),  # another channel, right token
    ({"token": None}, 401),  # no token at all
    ({"token": ZOHO_TOKEN + "x"}, 403),  # a longer token sharing our prefix
]


@pytest.mark.parametrize(("forged", "status"), FORGED_ZOHO)
async def test_a_forged_zoho_callback_is_refused_and_puts_nothing(
    hooks: httpx.AsyncClient, sink: SpySink, forged: dict[str, Any], status: int
) -> None:
    reply = await hooks.post("/hooks/zoho", json=zoho_callback(**forged))
    assert reply.status_code == status
    assert sink.changes == []


async def test_a_forged_frappe_signature_is_refused_and_puts_nothing(
    hooks: httpx.AsyncClient, sink: SpySink
) -> None:
    raw = frappe_body()
    cases = [
        ({}, 401),  # no signature
        (signed(raw, secret="not-our-secret-0123456789"), 403),  # signed with another key
        (signed(frappe_body(name="SHIPMENT-00043")), 403),  # a signature of another body
        ({"X-Frappe-Webhook-Signature": "not base64 at all"}, 403),
    ]
    for headers, status in cases:
        reply = await hooks.post("/hooks/erpnext", content=raw, headers=headers)
        assert reply.status_code == status, headers
    assert sink.changes == []


# each row: a malformed body (validly authenticated where it can be) and why it is there
MALFORMED_ZOHO = [
    b"{not json",  # not JSON
    b"[1, 2]",  # JSON, not an object
    json.dumps(zoho_callback(ids="5725767000000100101")).encode(),  # ids not a list
    json.dumps(zoho_callback(ids=[])).encode(),  # no ids
    json.dumps(zoho_callback(ids=["../etc"])).encode(),  # not Zoho ids
    json.dumps(zoho_callback(operation="create")).encode(),  # a subscription verb
    json.dumps(zoho_callback(affected_values="x")).encode(),  # not a list
    json.dumps(zoho_callback(module=7)).encode(),  # not a string
    b"\xff\xfe\x00",  # not UTF-8
    b"[" * 100_000 + b"]" * 100_000,  # nested too deep for the parser
]


@pytest.mark.parametrize("raw", MALFORMED_ZOHO)
async def test_a_malformed_zoho_body_is_400_and_puts_nothing(
    hooks: httpx.AsyncClient, sink: SpySink, raw: bytes
) -> None:
    reply = await hooks.post("/hooks/zoho", content=raw)
    assert reply.status_code in (400, 401), reply.text
    assert sink.changes == []


MALFORMED_FRAPPE = [
    b"{not json",  # not JSON
    frappe_body(event="on_save"),  # not a Frappe event
    frappe_body(modified="yesterday"),  # no version
    frappe_body(name=""),  # no document
    frappe_body(doctype="Bin", name="B-1", event="on_change"),  # a Bin without its keys
    frappe_body(name=["x"]),  # not a string
]


@pytest.mark.parametrize("raw", MALFORMED_FRAPPE)
async def test_a_malformed_but_signed_frappe_body_is_400_and_puts_nothing(
    hooks: httpx.AsyncClient, sink: SpySink, raw: bytes
) -> None:
    reply = await hooks.post("/hooks/erpnext", content=raw, headers=signed(raw))
    assert reply.status_code == 400, reply.text
    assert reply.json()["errors"][0]["extensions"]["code"] == "BAD_NOTIFICATION"
    assert sink.changes == []


async def test_a_body_over_a_mebibyte_is_413(hooks: httpx.AsyncClient, sink: SpySink) -> None:
    raw = b" " * (1 << 20) + b"{}"
    reply = await hooks.post("/hooks/erpnext", content=raw, headers=signed(raw))
    assert reply.status_code == 413
    assert sink.changes == []


async def test_a_module_crossdock_does_not_sync_is_accepted_and_ignored(
    hooks: httpx.AsyncClient, sink: SpySink
) -> None:
    reply = await hooks.post("/hooks/zoho", json=zoho_callback(module="Leads"))
    assert reply.json() == {"accepted": 0}
    raw = frappe_body(doctype="Warehouse")
    reply = await hooks.post("/hooks/erpnext", content=raw, headers=signed(raw))
    assert reply.json() == {"accepted": 0}
    assert sink.changes == []


async def test_an_inbox_that_fails_answers_503_so_the_backend_delivers_again(
    hooks: httpx.AsyncClient, sink: SpySink
) -> None:
    sink.fail = True
    raw = frappe_body()
    reply = await hooks.post("/hooks/erpnext", content=raw, headers=signed(raw))
    assert reply.status_code == 503
    assert reply.json()["errors"][0]["extensions"]["code"] == "INBOX_UNAVAILABLE"


async def test_hooks_take_only_post(hooks: httpx.AsyncClient) -> None:
    assert (await hooks.get("/hooks/zoho")).status_code == 405
