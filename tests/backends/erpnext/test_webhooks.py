"""The Webhook DocType of the ERPNext emulation: events, rendering, signature, retries, log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from tests.support.erpnext_emulation import AUTH, q, sales_order
from tests.support.receiver import Receiver

SECRET = "whsec-0123456789abcdef0123456789"
BODY = (
    '{"doctype": "{{ doc.doctype }}", "name": {{ doc.name | tojson }}, '
    '"modified": "{{ doc.modified }}"}'
)


def shipment(**overrides: Any) -> dict[str, Any]:
    """A Shipment the seed's addresses and company make valid."""
    doc: dict[str, Any] = {
        "pickup_company": "Acme Corp",
        "pickup_address_name": "Acme Corp-Billing",
        "delivery_customer": "Globex",
        "delivery_address_name": "Globex-Shipping",
        "pickup_date": "2026-03-05",
        "description_of_content": "Widgets",
        "carrier": "DHL",
        "value_of_goods": 40.0,
        "shipment_parcel": [{"weight": 2.5, "count": 1}],
    }
    doc.update(overrides)
    return doc


async def submit(client: httpx.AsyncClient, doctype: str, doc: dict[str, Any]) -> httpx.Response:
    created = await client.post(f"/api/resource/{doctype}", json=doc)
    assert created.status_code == 200, created.text
    name = created.json()["data"]["name"]
    return await client.put(f"/api/resource/{doctype}/{name}", json={"docstatus": 1})


def webhook(name: str, doctype: str, event: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "webhook_doctype": doctype,
        "webhook_docevent": event,
        "request_url": "http://gateway.test/hooks/erpnext",
        "request_structure": "JSON",
        "webhook_json": BODY,
        "webhook_headers": [{"key": "Content-Type", "value": "application/json"}],
        "enable_security": 1,
        "webhook_secret": SECRET,
        **extra,
    }


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def emulator(store: ErpStore, receiver: Receiver) -> AsyncIterator[ErpEmulator]:
    settings = ErpSettings(webhook_backoff_scale=0)
    emulator = ErpEmulator(store, settings, notify_client=receiver.client())
    yield emulator
    await emulator.aclose()


async def hook(client: httpx.AsyncClient, *args: str, **extra: Any) -> dict[str, Any]:
    reply = await client.post("/api/resource/Webhook", json=webhook(*args, **extra))
    assert reply.status_code == 200, reply.text
    data: dict[str, Any] = reply.json()["data"]
    return data


def events(receiver: Receiver) -> list[tuple[str, str]]:
    return [(b["doctype"], b["name"]) for b in receiver.bodies]


async def test_a_webhook_is_a_document_read_back_over_the_api(client: httpx.AsyncClient) -> None:
    await hook(client, "crossdock-item-update", "Item", "on_update")
    listed = await client.get(
        "/api/resource/Webhook", params=q(fields=["name", "webhook_doctype", "enabled"])
    )
    assert listed.json()["data"] == [
        {"name": "crossdock-item-update", "webhook_doctype": "Item", "enabled": 1}
    ]
    one = (await client.get("/api/resource/Webhook/crossdock-item-update")).json()["data"]
    assert one["webhook_headers"][0]["key"] == "Content-Type"
    assert one["timeout"] == 5


# each row: a bad Webhook and the words of the error
BAD_HOOKS = [
    ({"webhook_doctype": "Nope"}, "DocType Nope not found"),  # no such DocType
    ({"webhook_docevent": "on_save"}, "Doc Event must be one of"),  # not a Frappe event
    ({"webhook_doctype": "Item", "webhook_docevent": "on_submit"}, "must be Submittable"),
    ({"request_method": "GET"}, "request_method must be one of"),  # POST, PUT, DELETE
    ({"condition": "doc.qty > 1"}, "does not evaluate Python conditions"),
    ({"name": ""}, "Name not set via prompt"),  # autoname: prompt
]


@pytest.mark.parametrize(("bad", "words"), BAD_HOOKS)
async def test_a_bad_webhook_is_refused_with_417(
    client: httpx.AsyncClient, bad: dict[str, Any], words: str
) -> None:
    doc = {**webhook("h", "Sales Order", "on_submit"), **bad}
    reply = await client.post("/api/resource/Webhook", json=doc)
    assert reply.status_code == 417
    assert words in reply.text


async def test_the_body_is_the_rendered_template_signed_with_the_secret(
    client: httpx.AsyncClient, emulator: ErpEmulator, receiver: Receiver
) -> None:
    await hook(client, "item-insert", "Item", "after_insert")
    created = await client.post(
        "/api/resource/Item", json={"item_code": "NEW-1", "item_group": "Products"}
    )
    await emulator.outbox.drain()
    [request] = receiver.requests
    assert json.loads(request.raw) == {
        "doctype": "Item",
        "name": "NEW-1",
        "modified": created.json()["data"]["modified"],
    }
    expected = base64.b64encode(hmac.new(SECRET.encode(), request.raw, hashlib.sha256).digest())
    assert request.headers["x-frappe-webhook-signature"] == expected.decode()
    assert request.headers["content-type"] == "application/json"
    assert request.raw == json.dumps(json.loads(request.raw)).encode()  # Frappe's separators


async def test_webhook_data_rows_make_the_body_without_a_template(
    client: httpx.AsyncClient, emulator: ErpEmulator, receiver: Receiver
) -> None:
    rows = [{"fieldname": "name", "key": "id"}, {"fieldname": "item_name", "key": "title"}]
    form = {"request_structure": "Form URL-Encoded", "webhook_data": rows, "enable_security": 0}
    await hook(client, "rows", "Item", "on_update", **form)
    await client.put("/api/resource/Item/WIDGET-1", json={"item_name": "Widget II"})
    await emulator.outbox.drain()
    assert receiver.bodies == [{"id": "WIDGET-1", "title": "Widget II"}]
    assert "x-frappe-webhook-signature" not in receiver.requests[0].headers


async def test_a_tracking_change_on_a_submitted_shipment_fires_only_the_after_submit_events(
    client: httpx.AsyncClient, emulator: ErpEmulator, receiver: Receiver
) -> None:
    for event in ("after_insert", "on_update", "on_submit", "on_update_after_submit", "on_change"):
        body = '{"doctype": "Shipment", "name": "{{ doc.name }}", "event": "EVENT"}'
        body = body.replace("EVENT", event)
        await hook(client, f"shipment-{event}", "Shipment", event, webhook_json=body)
    done = (await submit(client, "Shipment", shipment())).json()["data"]
    await emulator.outbox.drain()
    before = sorted(b["event"] for b in receiver.bodies)
    # the insert: after_insert, on_update, on_change; the submit: on_update, on_submit, on_change
    inserted, submitted = ["after_insert", "on_update", "on_change"], ["on_update", "on_submit"]
    assert before == sorted([*inserted, *submitted, "on_change"])
    receiver.requests.clear()
    await client.put(
        f"/api/resource/Shipment/{done['name']}", json={"tracking_status": "Delivered"}
    )
    await emulator.outbox.drain()
    assert sorted(b["event"] for b in receiver.bodies) == ["on_change", "on_update_after_submit"]


async def test_a_submit_fires_on_change_of_the_bins_it_moved(
    client: httpx.AsyncClient, emulator: ErpEmulator, receiver: Receiver
) -> None:
    body = '{"doctype": "Bin", "item_code": "{{ doc.item_code }}", "name": "{{ doc.name }}"}'
    await hook(client, "bins", "Bin", "on_change", webhook_json=body)
    await submit(client, "Sales Order", sales_order())
    await emulator.outbox.drain()
    assert [b["item_code"] for b in receiver.bodies] == ["WIDGET-1"]


async def test_a_delete_fires_on_trash_with_the_document_as_it_was(
    client: httpx.AsyncClient, emulator: ErpEmulator, receiver: Receiver
) -> None:
    await hook(client, "item-trash", "Item", "on_trash")
    await client.post("/api/resource/Item", json={"item_code": "GONE", "item_group": "Products"})
    await client.delete("/api/resource/Item/GONE")
    await emulator.outbox.drain()
    assert events(receiver) == [("Item", "GONE")]


async def test_several_events_of_one_document_in_one_request_are_sent_once(
    client: httpx.AsyncClient, emulator: ErpEmulator, receiver: Receiver
) -> None:
    await hook(client, "so-change", "Sales Order", "on_change")
    await submit(client, "Sales Order", sales_order())  # on_change + db_set's on_change
    await emulator.outbox.drain()
    assert len(receiver.bodies) == 2  # one for the insert request, one for the submit


async def test_a_failing_receiver_gets_three_tries_each_logged(
    client: httpx.AsyncClient, emulator: ErpEmulator, receiver: Receiver
) -> None:
    receiver.statuses[:] = [500, 503, 200]
    waits: list[float] = []

    async def spy_sleep(seconds: float) -> None:
        waits.append(seconds)

    emulator.webhooks.backoff_scale = 1.0
    emulator.webhooks._sleep = spy_sleep
    await hook(client, "item-update", "Item", "on_update")
    await client.put("/api/resource/Item/WIDGET-1", json={"item_name": "Widget III"})
    await emulator.outbox.drain()
    assert len(receiver.requests) == 3
    assert waits == [1.0, 4.0]  # Frappe's 3*i+1 s between tries
    logs = await client.get(
        "/api/resource/Webhook Request Log",
        params=q(fields=["webhook", "error", "url"], order_by="creation asc", limit="0"),
    )
    rows = logs.json()["data"]
    assert [bool(r["error"]) for r in rows] == [True, True, False]
    assert {r["url"] for r in rows} == {"http://gateway.test/hooks/erpnext"}


async def test_the_log_cannot_be_written_over_the_api(client: httpx.AsyncClient) -> None:
    reply = await client.post("/api/resource/Webhook Request Log", json={"webhook": "x"})
    assert reply.status_code == 403


async def test_a_template_that_breaks_json_is_logged_and_skipped(
    client: httpx.AsyncClient, emulator: ErpEmulator, receiver: Receiver
) -> None:
    await hook(client, "broken", "Item", "on_update", webhook_json='{"name": {{ doc.name }}}')
    await client.put("/api/resource/Item/WIDGET-1", json={"item_name": "x"})
    await emulator.outbox.drain()
    assert receiver.requests == []
    logs = await client.get("/api/resource/Webhook Request Log", params=q(fields=["error"]))
    assert "JSONDecodeError" in logs.json()["data"][0]["error"]


async def test_a_disabled_webhook_sends_nothing(
    client: httpx.AsyncClient, emulator: ErpEmulator, receiver: Receiver
) -> None:
    await hook(client, "off", "Item", "on_update", enabled=0)
    await client.put("/api/resource/Item/WIDGET-1", json={"item_name": "y"})
    await emulator.outbox.drain()
    assert receiver.requests == []


async def test_webhooks_over_a_real_socket_do_not_hold_up_the_response(
    store: ErpStore, receiver: Receiver
) -> None:
    emulator = ErpEmulator(store, ErpSettings(), notify_client=receiver.client())
    emulator.outbox.knobs.update({"delay_ms": 60_000})
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp", headers=AUTH) as c:
        await hook(c, "item-update", "Item", "on_update")
        reply = await c.put("/api/resource/Item/WIDGET-1", json={"item_name": "z"})
    assert reply.status_code == 200
    assert receiver.requests == []
    assert emulator.outbox.counts["submitted"] == 1
    await emulator.aclose()
