"""`POST /api/method/frappe.client.get_list` answers what `GET /api/resource/{DocType}` answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backends.erpnext.app import ErpEmulator
from backends.erpnext.store import ErpStore
from tests.support.erpnext_emulation import messages, q

from .test_hostile_input import HOSTILE_LISTS

GET_LIST = "/api/method/frappe.client.get_list"
MISSING = [f"NO-SUCH-{n:03d}" for n in range(195)]


@pytest.fixture(autouse=True)
def items(store: ErpStore) -> None:
    store.insert("Item", [
        {"item_code": f"BULK-{i:03d}", "item_name": f"Bulk {i}", "item_group": "Bulk",
         "standard_rate": float(i), "modified": f"2026-01-01 10:00:{i % 60:02d}.000000"}
        for i in range(30)
    ])  # fmt: skip


# (doctype, list arguments): each is asked every way and must get the same status and rows.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("Item", {}),  # name only, the default page of 20, default order
    ("Item", {"fields": ["item_code", "standard_rate"], "order_by": "standard_rate desc"}),
    ("Item", {"fields": ["name"], "filters": [["item_code", "in", [*MISSING, "BULK-001",
              "BULK-007", "WIDGET-1", "GADGET-2", "SERVICE"]]]}),  # 200 keys
    ("Item", {"filters": {"item_group": "Bulk", "standard_rate": [">=", 25]}}),
    ("Item", {"filters": [["item_group", "=", "Bulk"]],
              "or_filters": [["standard_rate", "<", 2], ["standard_rate", ">", 28]]}),
    ("Item", {"filters": [["docstatus", "<", 2]], "limit_page_length": 0}),  # 0 = all
    ("Item", {"order_by": "name asc", "limit_start": 10, "limit_page_length": 7}),
    ("Dynamic Link", {"fields": ["link_name"], "parent": "Address"}),  # child with parent
    ("Address", {"filters": [["Dynamic Link", "link_name", "=", "Globex"]]}),  # on a child
    ("Dynamic Link", {"fields": ["link_name"]}),  # child without parent: 403
    ("Item", {"filters": [["nope", "=", 1]]}),  # unknown field: 417 DataError
    ("Item", {"filters": [["item_code", "~", 1]]}),  # unknown operator: 417
    ("Nonexistent", {}),  # unknown DocType: 404
]  # fmt: skip


@pytest.mark.parametrize(("doctype", "args"), CASES)
async def test_get_list_answers_what_the_resource_listing_answers(
    client: httpx.AsyncClient, doctype: str, args: dict[str, Any]
) -> None:
    listing = await client.get(f"/api/resource/{doctype}", params=q(**args))
    by_json = await client.post(GET_LIST, json={"doctype": doctype, **args})
    by_form = await client.post(GET_LIST, data={"doctype": doctype, **q(**args)})
    by_query = await client.get(GET_LIST, params={"doctype": doctype, **q(**args)})

    for method in (by_json, by_form, by_query):
        assert method.status_code == listing.status_code, method.text
        if listing.status_code == 200:
            assert method.json() == {"message": listing.json()["data"]}
        else:
            assert method.json() == listing.json()


async def test_a_long_in_filter_selects_its_rows(client: httpx.AsyncClient) -> None:
    keys = [*MISSING, "BULK-003", "BULK-004", "BULK-005"]
    response = await client.post(
        GET_LIST, json={"doctype": "Item", "filters": [["name", "in", keys]], "order_by": "name"}
    )
    assert response.json() == {"message": [{"name": f"BULK-00{n}"} for n in (3, 4, 5)]}


async def test_paging_walks_every_row_once(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    while True:
        page = await client.post(GET_LIST, json={
            "doctype": "Item", "order_by": "name asc", "limit_start": len(seen),
            "limit_page_length": 8,
        })  # fmt: skip
        names = [row["name"] for row in page.json()["message"]]
        seen += names
        if len(names) < 8:
            break
    assert len(seen) == len(set(seen)) == 33


async def test_limit_is_not_an_argument_of_the_method(client: httpx.AsyncClient) -> None:
    # GET /api/resource folds `limit` into limit_page_length; frappe.call drops it
    response = await client.post(GET_LIST, json={"doctype": "Item", "limit": 5})
    assert len(response.json()["message"]) == 20


@pytest.mark.parametrize(("params", "text"), HOSTILE_LISTS)
async def test_hostile_arguments_get_the_417_of_the_resource_listing(
    client: httpx.AsyncClient, params: dict[str, str], text: str
) -> None:
    response = await client.post(GET_LIST, data={"doctype": "Item", **params})
    assert response.status_code == 417, response.text
    assert response.json()["exc_type"] == "ValidationError"
    assert text in messages(response.json())[0]


BAD_CALLS: list[tuple[str, int, str]] = [
    ('{"fields": ["name"]}', 417, "Missing argument: doctype"),
    ('{"doctype": ["Item"]}', 417, "doctype must be a DocType name"),
    ('{"doctype": "Item", "limit_page_length": "many"}', 417, "limit_page_length must be an"),
    ('{"doctype": "Item", "limit_start": 1.5}', 417, "limit_start must be an integer"),
    ('{"doctype": "Item", "fields": {"a": 1}}', 417, "fields must be a JSON list"),
    ('{"doctype": "Item", "order_by": ["name"]}', 417, "Invalid order_by"),
    ('{"doctype": "Dynamic Link", "parent": ["Address"]}', 403, "valid parent DocType"),
    ('{"doctype": "Item", ', 417, "The request body is not valid JSON"),
    ('["Item"]', 417, "The request body must be a JSON object"),
]


@pytest.mark.parametrize(("body", "status", "text"), BAD_CALLS)
async def test_bad_calls_get_a_frappe_error_naming_the_problem(
    client: httpx.AsyncClient, body: str, status: int, text: str
) -> None:
    response = await client.post(
        GET_LIST, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert text in messages(response.json())[0]


async def test_the_method_needs_the_api_key(emulator: ErpEmulator) -> None:
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp.test") as anonymous:
        response = await anonymous.post(GET_LIST, json={"doctype": "Item"})
    assert response.status_code == 401
    assert response.json()["exc_type"] == "AuthenticationError"


async def test_calls_are_counted_by_route_and_the_fault_knobs_apply(
    client: httpx.AsyncClient, emulator: ErpEmulator
) -> None:
    await client.post(GET_LIST, json={"doctype": "Item"})
    emulator.controls.update({"down": True})
    down = await client.post(GET_LIST, json={"doctype": "Item"})

    assert down.status_code == 503
    assert emulator.stats.snapshot()["routes"] == {"POST " + GET_LIST: 2}
