"""Long key lists go to ERPNext as POST frappe.client.get_list, short ones as GET /api/resource."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from backends.erpnext.app import ErpEmulator
from backends.erpnext.store import ErpStore
from resolvers.erpnext import ERPNext
from resolvers.erpnext.wire import LONG_QUERY
from resolvers.errors import BackendRejected, BackendUnavailable
from resolvers.http import RetryPolicy
from tests.support.connectors import RecordingTransport, SleepSpy, erp_bin, erp_item, erp_options

GET_LIST = "POST /api/method/frappe.client.get_list"
GET_BIN = "GET /api/resource/Bin"


def routes(emulator: ErpEmulator) -> dict[str, int]:
    return dict(emulator.stats.snapshot()["routes"])


def posted(wire: RecordingTransport) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r in wire.requests if r.method == "POST"]


@pytest.fixture
def skus(erp_store: ErpStore) -> list[str]:
    codes = [f"SKU-{n:05d}" for n in range(200)]
    erp_store.insert("Item", [erp_item(s) for s in codes])
    erp_store.insert("Bin", [erp_bin(s, "Stores - AC", n) for n, s in enumerate(codes)])
    erp_store.insert("Bin", [erp_bin(s, "Berlin Hub - AC", 1) for s in codes[:30]])
    return codes


async def test_a_few_keys_stay_one_get_and_many_keys_become_one_post(
    scm: ERPNext, erp_emulator: ErpEmulator, skus: list[str]
) -> None:
    await scm.list_bins(skus[:10])
    assert routes(erp_emulator) == {GET_BIN: 1}

    erp_emulator.stats.reset()
    await scm.list_bins(skus)
    assert routes(erp_emulator) == {GET_LIST: 1}


async def test_the_switch_happens_where_the_query_grows_past_the_limit(
    scm: ERPNext, erp_emulator: ErpEmulator, erp_wire: RecordingTransport, skus: list[str]
) -> None:
    for count in range(10, 201, 10):
        await scm.list_bins(skus[:count])
    got = [query_bytes(dict(r.url.params)) for r in erp_wire.requests if r.method == "GET"]
    post = [query_bytes({k: v for k, v in body.items() if k != "doctype"})
            for body in posted(erp_wire)]  # fmt: skip

    assert len(got) + len(post) == 20
    assert got
    assert max(got) <= LONG_QUERY
    assert post
    assert min(post) > LONG_QUERY
    assert routes(erp_emulator) == {GET_BIN: len(got), GET_LIST: len(post)}


def query_bytes(args: dict[str, Any]) -> int:
    """The length of a list call's query values before percent-encoding, as the wire counts."""
    return sum(
        len(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))
        for v in args.values()
    )


async def test_post_and_get_answer_the_same_stock(
    scm: ERPNext, erp_emulator: ErpEmulator, skus: list[str]
) -> None:
    one_by_one: dict[str, Any] = {}
    for start in range(0, 200, 20):
        one_by_one.update(await scm.list_bins(skus[start : start + 20]))
    at_once = await scm.list_bins(skus)

    assert at_once == one_by_one
    assert sum(len(levels) for levels in at_once.values()) == 230
    assert routes(erp_emulator) == {GET_BIN: 10, GET_LIST: 1}


async def test_a_full_page_over_post_is_followed_by_another_until_a_short_one(
    erp_client: httpx.AsyncClient,
    erp_emulator: ErpEmulator,
    erp_wire: RecordingTransport,
    skus: list[str],
) -> None:
    scm = ERPNext(erp_client, erp_options(page_size=100))

    bins = await scm.list_bins(skus)

    assert sum(len(levels) for levels in bins.values()) == 230
    assert routes(erp_emulator) == {GET_LIST: 3}  # 100 + 100 + 30
    assert [body["limit_start"] for body in posted(erp_wire)] == [0, 100, 200]
    assert all(body["limit_page_length"] == 100 for body in posted(erp_wire))


async def test_a_child_table_is_read_over_post_with_its_parent(
    scm: ERPNext, erp_store: ErpStore, erp_emulator: ErpEmulator, erp_wire: RecordingTransport
) -> None:
    erp_store.insert("Item", [erp_item("SKU-1")])
    erp_store.insert("Customer", [{"name": "Cust A", "customer_name": "Cust A"}])
    erp_store.insert("Delivery Note", [
        {"name": f"MAT-DN-{n:05d}", "customer": "Cust A", "company": "Acme Corp",
         "docstatus": 1, "status": "Completed", "custom_crm_order_id": f"crm-{n}",
         "items": [{"item_code": "SKU-1", "qty": 1, "warehouse": "Stores - AC"}]}
        for n in range(1, 121)
    ])  # fmt: skip
    erp_store.insert("Shipment", [
        {"name": f"SHIPMENT-{n:05d}", "docstatus": 1, "status": "Submitted", "carrier": "DHL",
         "custom_crm_order_id": f"crm-{n}", "pickup_date": "2026-06-28",
         "shipment_delivery_note": [{"delivery_note": f"MAT-DN-{n:05d}"}]}
        for n in range(1, 121)
    ])  # fmt: skip

    found = await scm.shipments_by_orders([f"crm-{n}" for n in range(1, 121)])

    assert all(len(found[f"crm-{n}"]) == 1 and found[f"crm-{n}"][0].lines for n in range(1, 121))
    assert sum(routes(erp_emulator).values()) == 3  # Shipment, its notes, the notes' items
    children = {body["doctype"]: body.get("parent") for body in posted(erp_wire)}
    assert children["Shipment Delivery Note"] == "Shipment"
    assert children["Delivery Note Item"] == "Delivery Note"


async def test_a_failing_get_list_is_retried_like_a_get_and_ends_unavailable(
    scm: ERPNext, erp_emulator: ErpEmulator, sleep: SleepSpy, skus: list[str]
) -> None:
    erp_emulator.controls.update({"down": True})

    with pytest.raises(BackendUnavailable) as caught:
        await scm.list_bins(skus)

    assert caught.value.message == (
        "ERPNext returned 503 for POST /api/method/frappe.client.get_list; retried 2 times"
    )
    assert caught.value.code == "BACKEND_UNAVAILABLE"
    assert len(sleep.delays) == 2
    assert routes(erp_emulator) == {GET_LIST: 3}


async def test_a_rejected_get_list_is_not_retried_and_names_the_method(
    erp_client: httpx.AsyncClient, erp_emulator: ErpEmulator, sleep: SleepSpy
) -> None:
    scm = ERPNext(erp_client, erp_options(retry=RetryPolicy(attempts=3)), sleep=sleep)
    keys = [f"K{n:04d}" for n in range(200)]

    with pytest.raises(BackendRejected) as caught:
        await scm.wire.in_list("Bin", "no_such_field", keys, ["name"])

    assert "417 DataError for POST /api/method/frappe.client.get_list" in str(caught.value)
    assert "Field not permitted in query: no_such_field" in str(caught.value)
    assert sleep.delays == []
    assert routes(erp_emulator) == {GET_LIST: 1}


async def test_two_hundred_long_ids_are_one_post(
    scm: ERPNext, erp_emulator: ErpEmulator, erp_wire: RecordingTransport
) -> None:
    """A page of 200 orders of a CRM with long ids (Fxiaoke's 24 hex digits, 6,000 encoded
    bytes in an `in` filter) is one call: it travels in a POST body, past any URL limit."""
    ids = [f"{n:024x}" for n in range(200)]
    await scm.shipments_by_orders(ids)
    [body] = posted(erp_wire)
    keys = next(f[2] for f in body["filters"] if f[1] == "in")
    assert len(keys) == 200
    assert routes(erp_emulator) == {GET_LIST: 1}
