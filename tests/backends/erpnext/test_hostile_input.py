"""Hostile input gets Frappe's 417 naming the problem, never a 500, and never poisons the site."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.erpnext_emulation import messages, sales_order

DEEP = "[" * 5000 + "]" * 5000

# Each row once answered 500 (a sqlite bind error, an overflow, or a RecursionError).
HOSTILE_LISTS = [
    # a JSON object inside an `in` list cannot be bound to SQL
    ({"filters": '[["name","in",[{"a":1}]]]'}, "Invalid value for name"),
    # a list inside a dict-form `in`
    ({"filters": '{"name": ["in", [[1]]]}'}, "Invalid value for name"),
    # an object as the low end of `between`
    ({"filters": '[["name","between",[{"a":1},2]]]'}, "Invalid value for name"),
    # an integer past BIGINT
    ({"filters": '[["name","=",99999999999999999999999]]'}, "Value out of range for name"),
    # paging past BIGINT
    ({"limit_page_length": "99999999999999999999999"}, "limit_page_length must be between"),
    ({"limit_start": "99999999999999999999999"}, "limit_start must be between"),
    # nesting too deep for the JSON parser
    ({"filters": DEEP}, "Invalid JSON in parameter filters"),
    # a lone surrogate cannot be encoded for the database
    ({"filters": '[["name","=","\\ud800"]]'}, "Invalid JSON in parameter filters"),
]


@pytest.mark.parametrize(("params", "text"), HOSTILE_LISTS)
async def test_hostile_list_parameters_get_a_417_naming_the_problem(
    client: httpx.AsyncClient, params: dict[str, str], text: str
) -> None:
    response = await client.get("/api/resource/Item", params=params)
    assert response.status_code == 417, response.text
    assert response.json()["exc_type"] == "ValidationError"
    assert text in messages(response.json())[0]


def item(**fields: object) -> str:
    doc = {"item_code": "HOSTILE", "item_name": "x", "item_group": "Products", **fields}
    return json.dumps(doc)


# Each row once answered 500, and the Infinity row also broke every later list of Items.
HOSTILE_BODIES = [
    # 1e400 parses to an infinite float
    ('{"item_code":"H","item_name":"x","item_group":"Products","valuation_rate":1e400}',
     "Invalid value for Valuation Rate"),
    # past decimal(21,9), as MariaDB would refuse it
    (item(valuation_rate=1e13), "Invalid value for Valuation Rate"),
    # past BIGINT in an Int/Check column
    (item(is_stock_item=10**30), "Invalid value for Is Stock Item"),
    # NaN is not JSON
    ('{"item_code":"H","item_name":"x","item_group":"Products","valuation_rate":NaN}',
     "The request body is not valid JSON"),
    # a lone surrogate cannot be stored
    ('{"item_code":"\\ud800","item_name":"x","item_group":"Products"}',
     "The request body is not valid JSON"),
    # nesting too deep for the JSON parser
    (DEEP, "The request body is not valid JSON"),
    # a JSON array is not a document (it used to be read as an empty form)
    ("[1, 2]", "The request body must be a JSON object of fields"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "text"), HOSTILE_BODIES)
async def test_hostile_documents_get_a_417_and_leave_the_list_readable(
    client: httpx.AsyncClient, body: str, text: str
) -> None:
    response = await client.post("/api/resource/Item", content=body)
    listing = await client.get("/api/resource/Item", params={"fields": '["*"]'})
    assert response.status_code == 417, response.text
    assert text in messages(response.json())[0]
    assert listing.status_code == 200
    assert "HOSTILE" not in {row["name"] for row in listing.json()["data"]}


async def test_an_order_line_too_large_to_total_is_refused_not_a_500(
    client: httpx.AsyncClient,
) -> None:
    line = {"item_code": "WIDGET-1", "qty": 1e300, "rate": 1e300, "warehouse": "Stores - AC"}
    response = await client.post("/api/resource/Sales Order", json=sales_order(items=[line]))
    assert response.status_code == 417
    assert messages(response.json()) == ["Invalid value for Qty: 1e+300"]


async def test_large_but_storable_amounts_are_kept_exactly(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/resource/Item", content=item(valuation_rate=999999999999.5))
    assert response.status_code == 200
    assert response.json()["data"]["valuation_rate"] == 999999999999.5
