from __future__ import annotations

import httpx

from backends.erpnext.store import ErpStore
from tests.support.erpnext_emulation import messages, q, sales_order


async def test_get_by_url_encoded_name_with_spaces(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/resource/Warehouse/Finished%20Goods%20-%20AC")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["name"] == "Finished Goods - AC"
    assert data["doctype"] == "Warehouse"
    assert data["parent_warehouse"] == "All Warehouses - AC"


async def test_single_get_includes_child_rows(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/resource/Sales Order", json=sales_order())).json()["data"]
    response = await client.get(f"/api/resource/Sales%20Order/{created['name']}")
    rows = response.json()["data"]["items"]
    assert [(r["item_code"], r["qty"], r["idx"], r["parent"]) for r in rows] == [
        ("WIDGET-1", 10.0, 1, created["name"])
    ]


async def test_unknown_name_is_a_404_with_a_doubly_encoded_message(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/resource/Item/NOPE")
    assert response.status_code == 404
    body = response.json()
    assert body["exc_type"] == "DoesNotExistError"
    assert isinstance(body["_server_messages"], str)
    assert messages(body) == ["Item NOPE not found"]


async def test_create_echoes_the_full_doc_with_server_set_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/resource/Sales Order", json=sales_order())
    assert response.status_code == 200
    doc = response.json()["data"]
    assert doc["name"].startswith("SAL-ORD-20")
    assert len(doc["name"].rsplit("-", 1)[1]) == 5
    assert (doc["owner"], doc["docstatus"], doc["status"]) == ("Administrator", 0, "Draft")
    assert doc["creation"][10] == " "
    assert len(doc["modified"]) == 26
    assert (doc["company"], doc["currency"], doc["grand_total"]) == ("Acme Corp", "USD", 100.0)


async def test_duplicate_item_code_is_a_409(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/resource/Item",
        json={"item_code": "WIDGET-1", "item_name": "Again", "item_group": "Products"},
    )
    assert response.status_code == 409
    assert response.json()["exc_type"] == "DuplicateEntryError"
    assert messages(response.json()) == ["Item WIDGET-1 already exists"]


async def test_duplicate_customer_names_get_a_numbered_suffix(client: httpx.AsyncClient) -> None:
    first = await client.post("/api/resource/Customer", json={"customer_name": "Globex"})
    second = await client.post("/api/resource/Customer", json={"customer_name": "Globex"})
    assert [first.json()["data"]["name"], second.json()["data"]["name"]] == [
        "Globex - 1",
        "Globex - 2",
    ]


async def test_missing_mandatory_field_is_a_417_mandatory_error(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/resource/Item", json={"item_code": "X", "item_name": "X"})
    assert response.status_code == 417
    assert response.json()["exc_type"] == "MandatoryError"
    assert messages(response.json()) == ["Error: Value missing for Item: Item Group"]


async def test_link_to_a_missing_customer_is_a_link_validation_error(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/resource/Sales Order", json=sales_order(customer="Nobody"))
    assert response.status_code == 417
    assert response.json()["exc_type"] == "LinkValidationError"
    assert messages(response.json()) == ["Could not find Customer: Nobody"]


async def test_sales_order_validations_follow_erpnext(client: httpx.AsyncClient) -> None:
    no_date = sales_order(delivery_date=None)
    no_warehouse = sales_order(items=[{"item_code": "WIDGET-1", "qty": 1}])
    r1 = await client.post("/api/resource/Sales Order", json=no_date)
    r2 = await client.post("/api/resource/Sales Order", json=no_warehouse)
    assert (r1.status_code, messages(r1.json())) == (417, ["Please enter Delivery Date"])
    assert (r2.status_code, r2.json()["exc_type"]) == (417, "WarehouseRequired")
    assert messages(r2.json()) == ["Delivery warehouse required for stock item WIDGET-1"]


async def test_put_is_a_partial_update_that_touches_modified(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/resource/Sales Order", json=sales_order())).json()["data"]
    response = await client.put(
        f"/api/resource/Sales Order/{created['name']}", json={"po_no": "PO-7"}
    )
    doc = response.json()["data"]
    assert (doc["po_no"], doc["customer"], len(doc["items"])) == ("PO-7", "Globex", 1)
    assert doc["items"][0]["name"] == created["items"][0]["name"]
    assert doc["modified"] > created["modified"]


async def test_put_with_a_stale_modified_is_refused(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/resource/Sales Order", json=sales_order())).json()["data"]
    url = f"/api/resource/Sales Order/{created['name']}"
    await client.put(url, json={"po_no": "PO-1"})
    response = await client.put(url, json={"po_no": "PO-2", "modified": created["modified"]})
    assert (response.status_code, response.json()["exc_type"]) == (417, "TimestampMismatchError")


async def test_delete_answers_202_ok_and_refuses_submitted_docs(client: httpx.AsyncClient) -> None:
    draft = (await client.post("/api/resource/Sales Order", json=sales_order())).json()["data"]
    deleted = await client.delete(f"/api/resource/Sales Order/{draft['name']}")
    assert (deleted.status_code, deleted.json()) == (202, {"data": "ok"})
    assert (await client.get(f"/api/resource/Sales Order/{draft['name']}")).status_code == 404
    done = (await client.post("/api/resource/Sales Order", json=sales_order(docstatus=1))).json()
    refused = await client.delete(f"/api/resource/Sales Order/{done['data']['name']}")
    assert refused.status_code == 417
    assert "Submitted Record cannot be deleted" in messages(refused.json())[0]


async def test_deleting_a_linked_customer_is_refused(client: httpx.AsyncClient) -> None:
    await client.post("/api/resource/Sales Order", json=sales_order())
    response = await client.delete("/api/resource/Customer/Globex")
    assert (response.status_code, response.json()["exc_type"]) == (417, "LinkExistsError")


async def test_a_warehouse_holding_stock_or_children_cannot_be_deleted(
    client: httpx.AsyncClient,
) -> None:
    holding = await client.delete("/api/resource/Warehouse/Stores - AC")
    parent = await client.delete("/api/resource/Warehouse/All Warehouses - AC")
    assert holding.status_code == parent.status_code == 417
    assert messages(holding.json()) == [
        "Warehouse Stores - AC can not be deleted as quantity exists for Item WIDGET-1"
    ]
    assert messages(parent.json()) == [
        "Child warehouse exists for this warehouse. You can not delete this warehouse."
    ]


async def test_deleting_an_item_or_an_empty_warehouse_deletes_their_bins(
    client: httpx.AsyncClient, store: ErpStore
) -> None:
    store.insert("Bin", [{"item_code": "GADGET-2", "warehouse": "Finished Goods - AC"}])
    item = await client.delete("/api/resource/Item/WIDGET-1")
    warehouse = await client.delete("/api/resource/Warehouse/Finished Goods - AC")
    left = store.query('SELECT item_code, warehouse FROM "tabBin"')
    assert (item.status_code, warehouse.status_code) == (202, 202)
    assert left == [{"item_code": "GADGET-2", "warehouse": "Stores - AC"}]


async def test_illegal_docstatus_transitions_get_frappes_text(client: httpx.AsyncClient) -> None:
    draft = (await client.post("/api/resource/Sales Order", json=sales_order())).json()["data"]
    url = f"/api/resource/Sales Order/{draft['name']}"
    to_cancelled = await client.put(url, json={"docstatus": 2})
    assert messages(to_cancelled.json()) == [
        "Cannot change docstatus from 0 (Draft) to 2 (Cancelled)"
    ]
    await client.put(url, json={"docstatus": 1})
    back_to_draft = await client.put(url, json={"docstatus": 0})
    assert messages(back_to_draft.json()) == [
        "Cannot change docstatus from 1 (Submitted) to 0 (Draft)"
    ]
    edited = await client.put(url, json={"customer": "Initech"})
    assert edited.json()["exc_type"] == "UpdateAfterSubmitError"
    assert messages(edited.json()) == [
        "Not allowed to change Customer after submission from Globex to Initech"
    ]
    allowed = await client.put(url, json={"po_no": "PO-9"})
    assert allowed.json()["data"]["po_no"] == "PO-9"
    await client.put(url, json={"docstatus": 2})
    again = await client.put(url, json={"docstatus": 1})
    assert (again.status_code, messages(again.json())) == (417, ["Cannot edit cancelled document"])


async def test_read_only_bin_cannot_be_written(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/resource/Bin", json={"item_code": "WIDGET-1"})
    assert (response.status_code, response.json()["exc_type"]) == (403, "PermissionError")


async def test_child_rows_list_with_a_parent_doctype_for_many_parents(
    client: httpx.AsyncClient,
) -> None:
    made = [
        (await client.post("/api/resource/Sales Order", json=sales_order())).json()["data"]["name"]
        for _ in range(3)
    ]
    response = await client.get(
        "/api/resource/Sales Order Item",
        params=q(parent="Sales Order", fields=["parent", "item_code", "qty"],
                 filters=[["parent", "in", made[:2]]], order_by="parent asc"),
    )  # fmt: skip
    assert response.json()["data"] == [
        {"parent": made[0], "item_code": "WIDGET-1", "qty": 10.0},
        {"parent": made[1], "item_code": "WIDGET-1", "qty": 10.0},
    ]


async def test_child_rows_without_a_parent_doctype_are_forbidden(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/resource/Sales Order Item")
    assert response.status_code == 403
    assert messages(response.json()) == [
        "Please specify a valid parent DocType for Sales Order Item"
    ]


async def test_parents_filter_on_their_child_rows(client: httpx.AsyncClient) -> None:
    gadget = sales_order(items=[{"item_code": "GADGET-2", "qty": 1, "warehouse": "Stores - AC"}])
    wanted = (await client.post("/api/resource/Sales Order", json=gadget)).json()["data"]["name"]
    await client.post("/api/resource/Sales Order", json=sales_order())
    response = await client.get(
        "/api/resource/Sales Order",
        params=q(filters=[["Sales Order Item", "item_code", "=", "GADGET-2"]]),
    )
    assert response.json()["data"] == [{"name": wanted}]


async def test_malformed_body_is_a_417_not_a_500(client: httpx.AsyncClient) -> None:
    bad_json = await client.post("/api/resource/Item", content=b"{nope")
    not_object = await client.post("/api/resource/Item", json=[1, 2])
    bad_number = await client.post(
        "/api/resource/Item",
        json={"item_code": "Z", "item_name": "Z", "item_group": "G", "valuation_rate": "lots"},
    )
    bad_rows = await client.post("/api/resource/Sales Order", json=sales_order(items="x"))
    assert [r.status_code for r in (bad_json, not_object, bad_number, bad_rows)] == [417] * 4


async def test_store_counts_and_persists_across_reopen(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "erp.sqlite3"
    store = ErpStore(path)
    store.insert("Company", [{"company_name": "Acme Corp", "abbr": "AC"}])
    store.insert("Customer", [{"customer_name": "Globex"}])
    store.close()
    reopened = ErpStore(path)
    assert (reopened.count("Customer"), reopened.get("Customer", "Globex") is not None) == (1, True)
    reopened.close()


async def test_frappe_client_submit_and_cancel_methods_work_too(client: httpx.AsyncClient) -> None:
    draft = (await client.post("/api/resource/Sales Order", json=sales_order())).json()["data"]
    submitted = await client.post("/api/method/frappe.client.submit", json={"doc": draft})
    assert submitted.json()["message"]["docstatus"] == 1
    cancelled = await client.post(
        "/api/method/frappe.client.cancel",
        data={"doctype": "Sales Order", "name": draft["name"]},
    )
    assert cancelled.json() == {}
    after = await client.get(f"/api/resource/Sales Order/{draft['name']}")
    assert after.json()["data"]["status"] == "Cancelled"


async def test_customer_credit_limits_come_back_as_a_child_table(client: httpx.AsyncClient) -> None:
    body = {
        "customer_name": "Umbrella",
        "custom_crm_account_id": "5725767000000003",
        "credit_limits": [{"company": "Acme Corp", "credit_limit": 5000}],
    }
    created = await client.post("/api/resource/Customer", json=body)
    limits = created.json()["data"]["credit_limits"]
    assert [(r["company"], r["credit_limit"], r["parentfield"]) for r in limits] == [
        ("Acme Corp", 5000.0, "credit_limits")
    ]
    twice = {**body, "credit_limits": body["credit_limits"] * 2}
    refused = await client.post("/api/resource/Customer", json=twice)
    assert messages(refused.json()) == ["Credit limit is already defined for the Company Acme Corp"]
