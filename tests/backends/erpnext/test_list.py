from __future__ import annotations

from typing import Any

import httpx
import pytest

from backends.erpnext.store import ErpStore
from tests.support.erpnext_emulation import messages, q


@pytest.fixture
def items(store: ErpStore) -> None:
    store.insert("Item", [
        {"item_code": f"BULK-{i:03d}", "item_name": f"Bulk {i}", "item_group": "Bulk",
         "standard_rate": float(i), "description": "even" if i % 2 == 0 else None,
         "modified": f"2026-01-01 10:00:{i % 60:02d}.000000"}
        for i in range(30)
    ])  # fmt: skip


async def names(client: httpx.AsyncClient, doctype: str, **params: Any) -> list[str]:
    response = await client.get(f"/api/resource/{doctype}", params=q(**params))
    assert response.status_code == 200, response.text
    return [row["name"] for row in response.json()["data"]]


async def test_without_fields_only_name_comes_back(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/resource/Customer")
    assert response.json() == {"data": [{"name": "Initech"}, {"name": "Globex"}]}


async def test_star_returns_every_parent_column_but_no_child_rows(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/resource/Address", params=q(fields=["*"]))
    row = response.json()["data"][0]
    assert {"name", "owner", "creation", "modified", "docstatus", "idx", "city"} <= set(row)
    assert "links" not in row


async def test_named_fields_come_back_in_the_order_asked(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/resource/Item", params=q(fields=["item_code", "is_stock_item", "valuation_rate"],
                                       filters=[["item_code", "=", "WIDGET-1"]])
    )  # fmt: skip
    assert response.json()["data"] == [
        {"item_code": "WIDGET-1", "is_stock_item": 1, "valuation_rate": 4.5}
    ]


@pytest.mark.usefixtures("items")
async def test_the_default_page_is_twenty_rows_and_zero_means_all(
    client: httpx.AsyncClient,
) -> None:
    assert len(await names(client, "Item")) == 20
    assert len(await names(client, "Item", limit_page_length="0")) == 33
    assert len(await names(client, "Item", limit="5")) == 5


@pytest.mark.usefixtures("items")
async def test_paging_walks_every_row_once(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    for start in range(0, 40, 10):
        seen += await names(client, "Item", order_by="item_code asc", limit_start=str(start),
                            limit_page_length="10")  # fmt: skip
    assert len(seen) == 33 == len(set(seen))
    assert seen[:2] == ["BULK-000", "BULK-001"]


@pytest.mark.usefixtures("items")
async def test_order_by_sorts_descending(client: httpx.AsyncClient) -> None:
    got = await names(client, "Item", order_by="standard_rate desc", limit="3")
    assert got == ["BULK-029", "BULK-028", "BULK-027"]


# Each row: one operator, a filter in one of the accepted shapes, and the names it must match.
OPERATOR_CASES = [
    ([["standard_rate", "=", 3]], ["BULK-003"]),
    ([["item_group", "!=", "Bulk"]], ["GADGET-2", "SERVICE", "WIDGET-1"]),
    ([["standard_rate", "<", 2], ["item_group", "=", "Bulk"]], ["BULK-000", "BULK-001"]),
    ([["standard_rate", ">", 27]], ["BULK-028", "BULK-029"]),
    ([["standard_rate", "<=", 1], ["item_group", "=", "Bulk"]], ["BULK-000", "BULK-001"]),
    ([["standard_rate", ">=", 29]], ["BULK-029"]),
    ([["item_code", "like", "%-00%"]], [f"BULK-00{i}" for i in range(10)]),
    ([["item_code", "not like", "BULK%"]], ["GADGET-2", "SERVICE", "WIDGET-1"]),
    ([["item_code", "in", ["WIDGET-1", "SERVICE", "NOPE"]]], ["SERVICE", "WIDGET-1"]),
    ([["item_code", "in", "WIDGET-1, GADGET-2"]], ["GADGET-2", "WIDGET-1"]),  # comma string
    ([["item_group", "not in", ["Bulk", "Products"]]], ["SERVICE"]),
    ([["standard_rate", "between", [27, 28]]], ["BULK-027", "BULK-028"]),
    ([["modified", "between", ["2026-01-01", "2026-01-01"]], ["item_code", "like", "BULK-00%"]],
     [f"BULK-00{i}" for i in range(10)]),  # a bare end date covers that whole day
    ([["description", "is", "set"], ["standard_rate", "<", 5]],
     ["BULK-000", "BULK-002", "BULK-004"]),
    ([["description", "is", "not set"], ["standard_rate", "<", 4], ["item_group", "=", "Bulk"]],
     ["BULK-001", "BULK-003"]),
    ([["Item", "standard_rate", ">", 28]], ["BULK-029"]),  # list-of-4 naming the DocType
    ({"item_group": "Services"}, ["SERVICE"]),  # dict form, equality
    ({"standard_rate": [">", 28]}, ["BULK-029"]),  # dict form with an operator
    ({"item_code": ["in", ["WIDGET-1"]]}, ["WIDGET-1"]),
    ([["modified", ">", "2026-01-01 10:00:27.000000"], ["item_group", "=", "Bulk"]],
     ["BULK-028", "BULK-029"]),  # incremental sync by modified
]  # fmt: skip


@pytest.mark.usefixtures("items")
@pytest.mark.parametrize(("filters", "expected"), OPERATOR_CASES)
async def test_every_filter_operator_and_shape_selects_the_right_rows(
    client: httpx.AsyncClient, filters: Any, expected: list[str]
) -> None:
    got = await names(client, "Item", filters=filters, limit_page_length="0")
    assert sorted(got) == expected


@pytest.mark.usefixtures("items")
async def test_or_filters_are_ored_and_anded_with_filters(client: httpx.AsyncClient) -> None:
    got = await names(
        client, "Item",
        filters=[["item_group", "=", "Bulk"]],
        or_filters=[
            ["standard_rate", "=", 1], ["standard_rate", "=", 2], ["item_code", "=", "SERVICE"]
        ],
    )  # fmt: skip
    assert sorted(got) == ["BULK-001", "BULK-002"]


# Bad input gets a 417 naming what is wrong, never a 500.
BAD_LISTS = [
    ({"fields": '["nope"]'}, "Field not permitted in query: nope", "DataError"),
    ({"filters": '[["nope","=",1]]'}, "Field not permitted in query: nope", "DataError"),
    ({"filters": "[[oops"}, "Invalid JSON in parameter filters", "ValidationError"),
    ({"or_filters": "{bad"}, "Invalid JSON in parameter or_filters", "ValidationError"),
    ({"filters": '[["name","~","x"]]'}, "Invalid operator", "ValidationError"),
    ({"filters": '[["name","between","x"]]'}, "between", "ValidationError"),
    ({"limit_page_length": "ten"}, "limit_page_length must be an integer", "ValidationError"),
    ({"order_by": "name; drop table"}, "Invalid order_by", "ValidationError"),
    ({"filters": '[["Sales Order Item","item_code","=","x"]]'}, "not permitted", "DataError"),
]


@pytest.mark.parametrize(("params", "text", "exc_type"), BAD_LISTS)
async def test_bad_list_parameters_get_a_417_naming_the_problem(
    client: httpx.AsyncClient, params: dict[str, str], text: str, exc_type: str
) -> None:
    response = await client.get("/api/resource/Item", params=params)
    assert response.status_code == 417
    assert response.json()["exc_type"] == exc_type
    assert text in messages(response.json())[0]


async def test_unknown_doctype_is_a_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/resource/Spaceship")
    assert response.status_code == 404
    assert messages(response.json()) == ["DocType Spaceship not found"]


async def test_v1_prefix_answers_the_same(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/resource/Customer")).json() == (
        await client.get("/api/resource/Customer")
    ).json()
