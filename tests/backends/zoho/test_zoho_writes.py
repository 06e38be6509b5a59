from __future__ import annotations

from typing import Any

import httpx
import pytest

from backends.zoho.store import ZohoStore
from tests.support.zoho_emulation import seed_accounts, seed_products


async def get_record(client: httpx.AsyncClient, module: str, record_id: str) -> dict[str, Any]:
    [record] = (await client.get(f"/crm/v8/{module}/{record_id}")).json()["data"]
    assert isinstance(record, dict)
    return record


def order(account_id: str, product_id: str, **extra: Any) -> dict[str, Any]:
    line = {"Product_Name": {"id": product_id}, "Quantity": 2, "List_Price": 10}
    return {
        "Subject": "Order",
        "Account_Name": {"id": account_id},
        "Ordered_Items": [line],
        **extra,
    }


async def test_insert_returns_201_with_a_success_result_per_record(
    client: httpx.AsyncClient,
) -> None:
    reply = await client.post(
        "/crm/v8/Accounts", json={"data": [{"Account_Name": "A"}, {"Account_Name": "B"}]}
    )
    assert reply.status_code == 201
    results = reply.json()["data"]
    assert [r["code"] for r in results] == ["SUCCESS", "SUCCESS"]
    assert results[0]["message"] == "record added"
    assert set(results[0]["details"]) >= {
        "id",
        "Created_Time",
        "Modified_Time",
        "Created_By",
        "Modified_By",
    }


async def test_a_mixed_batch_is_207_with_errors_in_input_order(client: httpx.AsyncClient) -> None:
    body = {
        "data": [
            {"Account_Name": "ok"},
            {"Phone": "123"},
            {"Account_Name": "B", "Credit_Limit": "lots"},
        ]
    }
    reply = await client.post("/crm/v8/Accounts", json=body)
    assert reply.status_code == 207
    ok, mandatory, invalid = reply.json()["data"]
    assert ok["status"] == "success"
    assert mandatory["code"] == "MANDATORY_NOT_FOUND"
    assert mandatory["details"] == {
        "api_name": "Account_Name",
        "json_path": "$.data[1].Account_Name",
    }
    assert invalid["code"] == "INVALID_DATA"
    assert invalid["details"]["api_name"] == "Credit_Limit"
    assert invalid["details"]["json_path"] == "$.data[2].Credit_Limit"


@pytest.mark.parametrize(
    ("module", "record", "api_name"),
    [
        ("Contacts", {"First_Name": "Ann"}, "Last_Name"),
        ("Products", {"Product_Code": "SKU-9"}, "Product_Name"),
        ("Sales_Orders", {"Status": "Created"}, "Subject"),  # Subject, then Account_Name
    ],
)
async def test_each_modules_mandatory_field_is_enforced(
    client: httpx.AsyncClient, module: str, record: dict[str, Any], api_name: str
) -> None:
    reply = await client.post(f"/crm/v8/{module}", json={"data": [record]})
    assert reply.status_code == 400
    assert reply.json()["data"][0]["code"] == "MANDATORY_NOT_FOUND"
    assert reply.json()["data"][0]["details"]["api_name"] == api_name


async def test_a_sales_order_needs_an_account(client: httpx.AsyncClient) -> None:
    reply = await client.post("/crm/v8/Sales_Orders", json={"data": [{"Subject": "x"}]})
    assert reply.json()["data"][0]["code"] == "MANDATORY_NOT_FOUND"
    assert reply.json()["data"][0]["details"]["api_name"] == "Account_Name"


@pytest.mark.parametrize(
    ("record", "api_name"),
    [
        ({"Account_Name": "A", "Unknown_Field": 1}, "Unknown_Field"),  # not a field of Accounts
        ({"Account_Name": "A", "Website": 42}, "Website"),  # wrong JSON type
        ({"Account_Name": "A", "Currency": "Euro"}, "Currency"),  # not an ISO code
        ({"Account_Name": "A", "Parent_Account": {"id": "999"}}, "Parent_Account"),  # unknown id
        ({"Account_Name": "A" * 256}, "Account_Name"),  # over 255 characters
    ],
)
async def test_invalid_values_are_invalid_data_naming_the_field(
    client: httpx.AsyncClient, record: dict[str, Any], api_name: str
) -> None:
    reply = await client.post("/crm/v8/Accounts", json={"data": [record]})
    [result] = reply.json()["data"]
    assert result["code"] == "INVALID_DATA"
    assert result["details"]["api_name"] == api_name


async def test_an_order_gets_a_number_lines_with_product_lookups_and_computed_totals(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    [acme] = seed_accounts(store, 1)
    widget, _ = seed_products(store)
    lines = [
        {"Product_Name": {"id": widget}, "quantity": 3},  # price from the product
        {"Product_Name": {"id": widget}, "Quantity": 1, "ListPrice": 4, "Discount": 1},
    ]
    reply = await client.post(
        "/crm/v8/Sales_Orders",
        json={
            "data": [
                {"Subject": "S", "Account_Name": {"id": acme}, "Ordered_Items": lines, "Tax": 2}
            ]
        },
    )
    record = await get_record(client, "Sales_Orders", reply.json()["data"][0]["details"]["id"])
    assert record["SO_Number"].startswith("SO-")
    assert record["Status"] == "Created"
    assert record["Account_Name"] == {"name": "Account 00000", "id": acme}
    first, second = record["Ordered_Items"]
    assert first["Product_Name"] == {"name": "Widget", "id": widget, "Product_Code": "SKU-1"}
    assert (first["List_Price"], first["Total"], first["Net_Total"]) == (10.5, 31.5, 31.5)
    assert (second["List_Price"], second["Net_Total"]) == (4, 3)
    assert (record["Sub_Total"], record["Grand_Total"]) == (34.5, 36.5)


async def test_subform_rows_without_id_append_delete_removes_one_and_empty_clears(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    [acme] = seed_accounts(store, 1)
    widget, gadget = seed_products(store)
    created = await client.post("/crm/v8/Sales_Orders", json={"data": [order(acme, widget)]})
    order_id = created.json()["data"][0]["details"]["id"]
    [first] = (await get_record(client, "Sales_Orders", order_id))["Ordered_Items"]
    appended = {"Ordered_Items": [{"Product_Name": {"id": gadget}, "Quantity": 1}]}
    await client.put(f"/crm/v8/Sales_Orders/{order_id}", json={"data": [appended]})
    two = (await get_record(client, "Sales_Orders", order_id))["Ordered_Items"]
    removal = {"Ordered_Items": [{"id": first["id"], "_delete": None}]}
    await client.put(f"/crm/v8/Sales_Orders/{order_id}", json={"data": [removal]})
    one = (await get_record(client, "Sales_Orders", order_id))["Ordered_Items"]
    await client.put(f"/crm/v8/Sales_Orders/{order_id}", json={"data": [{"Ordered_Items": []}]})
    cleared = await get_record(client, "Sales_Orders", order_id)
    assert [row["Product_Name"]["id"] for row in two] == [widget, gadget]
    assert [row["Product_Name"]["id"] for row in one] == [gadget]
    assert cleared["Ordered_Items"] == []
    assert cleared["Sub_Total"] == 0


async def test_bulk_update_is_200_and_needs_an_id_per_record(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    a, b = seed_accounts(store, 2)
    ok = await client.put(
        "/crm/v8/Accounts", json={"data": [{"id": a, "Phone": "1"}, {"id": b, "Phone": "2"}]}
    )
    mixed = await client.put(
        "/crm/v8/Accounts", json={"data": [{"id": a, "Phone": "3"}, {"Phone": "4"}]}
    )
    assert ok.status_code == 200
    assert ok.json()["data"][0]["message"] == "record updated"
    assert mixed.status_code == 207
    assert mixed.json()["data"][1]["details"]["api_name"] == "id"
    assert (await get_record(client, "Accounts", a))["Phone"] == "3"


async def test_update_moves_modified_time_and_keeps_created_time(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    [a] = store.insert(
        "Accounts", [{"Account_Name": "A", "Created_Time": "2026-01-01T10:00:00+05:30"}]
    )
    await client.put(f"/crm/v8/Accounts/{a}", json={"data": [{"Industry": "Retail"}]})
    record = await get_record(client, "Accounts", a)
    assert record["Created_Time"] == "2026-01-01T10:00:00+05:30"
    assert record["Modified_Time"] > "2026-01-01T10:00:00+05:30"
    assert record["Industry"] == "Retail"


async def test_updating_an_unknown_id_is_invalid_data(client: httpx.AsyncClient) -> None:
    reply = await client.put(
        "/crm/v8/Accounts/1234567890123456789", json={"data": [{"Phone": "1"}]}
    )
    assert reply.status_code == 400
    assert reply.json()["data"][0]["code"] == "INVALID_DATA"


async def test_upsert_by_external_ref_twice_ends_on_one_order(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    [acme] = seed_accounts(store, 1)
    widget, _ = seed_products(store)
    body = {
        "data": [order(acme, widget, External_Ref="cart-42")],
        "duplicate_check_fields": ["External_Ref"],
    }
    first = await client.post("/crm/v8/Sales_Orders/upsert", json=body)
    second = await client.post("/crm/v8/Sales_Orders/upsert", json=body)
    assert first.status_code == 201
    assert first.json()["data"][0]["action"] == "insert"
    assert second.status_code == 200
    assert second.json()["data"][0]["action"] == "update"
    assert second.json()["data"][0]["duplicate_field"] == "External_Ref"
    assert second.json()["data"][0]["details"]["id"] == first.json()["data"][0]["details"]["id"]
    assert store.count("Sales_Orders") == 1


async def test_upsert_without_duplicate_check_fields_uses_the_modules_system_field(
    client: httpx.AsyncClient,
) -> None:
    await client.post(
        "/crm/v8/Contacts/upsert", json={"data": [{"Last_Name": "A", "Email": "a@x.io"}]}
    )
    again = await client.post(
        "/crm/v8/Contacts/upsert", json={"data": [{"Last_Name": "B", "Email": "A@X.io"}]}
    )
    assert again.json()["data"][0]["duplicate_field"] == "Email"


async def test_a_second_order_with_the_same_external_ref_is_duplicate_data(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    [acme] = seed_accounts(store, 1)
    widget, _ = seed_products(store)
    body = {
        "data": [order(acme, widget, External_Ref="r1"), order(acme, widget, External_Ref="r1")]
    }
    reply = await client.post("/crm/v8/Sales_Orders", json=body)
    assert reply.status_code == 207
    duplicate = reply.json()["data"][1]
    assert duplicate["code"] == "DUPLICATE_DATA"
    assert duplicate["details"]["api_name"] == "External_Ref"
    assert (
        duplicate["details"]["duplicate_record"]["id"] == reply.json()["data"][0]["details"]["id"]
    )


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{not json", "INVALID_DATA"),  # malformed JSON
        (b'{"records": []}', "REQUIRED_PARAM_MISSING"),  # no data key
        (b'{"data": []}', "INVALID_DATA"),  # nothing to write
        (b'{"data": [' + b",".join([b'{"Account_Name":"a"}'] * 101) + b"]}", "LIMIT_EXCEEDED"),
    ],
)
async def test_bad_write_bodies_are_400_never_500(
    client: httpx.AsyncClient, content: bytes, code: str
) -> None:
    reply = await client.post("/crm/v8/Accounts", content=content)
    assert reply.status_code == 400
    assert reply.json()["code"] == code


async def test_delete_by_ids_reports_each_id(store: ZohoStore, client: httpx.AsyncClient) -> None:
    a, b = seed_accounts(store, 2)
    reply = await client.delete("/crm/v8/Accounts", params={"ids": f"{a},1234567890123456789"})
    single = await client.delete(f"/crm/v8/Accounts/{b}")
    assert reply.status_code == 207
    assert reply.json()["data"][0]["message"] == "record deleted"
    assert single.status_code == 200
    assert store.count("Accounts") == 0


@pytest.mark.parametrize(
    ("line", "code", "json_path"),
    [
        ({"Quantity": 1}, "MANDATORY_NOT_FOUND", "$.data[0].Ordered_Items[0].Product_Name"),
        (
            {"Product_Name": {"id": "WIDGET"}},
            "MANDATORY_NOT_FOUND",
            "$.data[0].Ordered_Items[0].Quantity",
        ),
        (
            {"Product_Name": {"id": "WIDGET"}, "Quantity": -1},
            "INVALID_DATA",
            "$.data[0].Ordered_Items[0].Quantity",
        ),
        (
            {"Product_Name": {"id": "999"}, "Quantity": 1},
            "INVALID_DATA",
            "$.data[0].Ordered_Items[0].Product_Name",
        ),
        (
            {"Product_Name": {"id": "WIDGET"}, "Qty": 1},
            "INVALID_DATA",
            "$.data[0].Ordered_Items[0].Qty",
        ),
    ],
)
async def test_bad_order_lines_name_the_row_and_field(
    store: ZohoStore, client: httpx.AsyncClient, line: dict[str, Any], code: str, json_path: str
) -> None:
    [acme] = seed_accounts(store, 1)
    widget, _ = seed_products(store)
    if line.get("Product_Name") == {"id": "WIDGET"}:
        line = {**line, "Product_Name": {"id": widget}}
    record = {"Subject": "S", "Account_Name": {"id": acme}, "Ordered_Items": [line]}
    reply = await client.post("/crm/v8/Sales_Orders", json={"data": [record]})
    [result] = reply.json()["data"]
    assert (result["code"], result["details"]["json_path"]) == (code, json_path)


async def test_updating_a_seeded_order_keeps_its_totals_unless_the_lines_change(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    [acme] = seed_accounts(store, 1)
    widget, _ = seed_products(store)
    # Seed rows are raw: no computed row totals, and a header total of their own.
    line = {"Product_Name": {"id": widget, "name": "Widget"}, "Quantity": 2, "List_Price": 10}
    seeded = {"Subject": "S", "Account_Name": {"id": acme, "name": "A"}, "Ordered_Items": [line]}
    [order_id] = store.insert("Sales_Orders", [{**seeded, "Sub_Total": 20, "Grand_Total": 23.8}])
    await client.put(f"/crm/v8/Sales_Orders/{order_id}", json={"data": [{"Status": "Approved"}]})
    approved = await get_record(client, "Sales_Orders", order_id)
    more = {"Ordered_Items": [{"Product_Name": {"id": widget}, "Quantity": 1, "List_Price": 5}]}
    await client.put(f"/crm/v8/Sales_Orders/{order_id}", json={"data": [more]})
    extended = await get_record(client, "Sales_Orders", order_id)
    assert (approved["Status"], approved["Grand_Total"]) == ("Approved", 23.8)
    assert (extended["Sub_Total"], extended["Grand_Total"]) == (25, 25)


@pytest.mark.parametrize(
    "content",
    [
        b'{"data": [{"Account_Name": "A", "Credit_Limit": NaN}]}',  # Python's json accepts NaN
        b'{"data": [{"Account_Name": "A", "Credit_Limit": 1e308}]}',  # beyond 16 digits
    ],
)
async def test_non_finite_or_huge_money_is_invalid_data_so_reads_stay_valid_json(
    client: httpx.AsyncClient, content: bytes
) -> None:
    reply = await client.post("/crm/v8/Accounts", content=content)
    assert reply.json()["data"][0]["details"]["api_name"] == "Credit_Limit"
    assert (await client.get("/crm/v8/Accounts", params={"fields": "id"})).status_code == 204
