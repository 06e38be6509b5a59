"""create/update/invalid/get and describe as documented: details, flags, strings for money."""

from __future__ import annotations

from typing import Any

from backends.fxiaoke.app import FxiaokeEmulator
from tests.support.fxiaoke_emulation import FxCaller, in_filter

CREATE = "/cgi/crm/v2/data/create"
NO_FLOWS = {"triggerApprovalFlow": False, "triggerWorkFlow": False}


async def _first(fx: FxCaller, api_name: str) -> dict[str, Any]:
    record: dict[str, Any] = (await fx.query(api_name, limit=1))["data"]["dataList"][0]
    return record


async def _order_body(fx: FxCaller, ref: str, **changes: Any) -> dict[str, Any]:
    account, product = await _first(fx, "AccountObj"), await _first(fx, "ProductObj")
    line = {"product_id": product["_id"], "quantity": "3", "sales_price": "12.50"}
    object_data = {
        "dataObjectApiName": "SalesOrderObj",
        "account_id": account["_id"],
        "field_order_status__c": "pending_approval",
        "field_external_ref__c": ref,
        **changes,
    }
    return {"object_data": object_data, "details": {"SalesOrderProductObj": [line]}}


async def test_an_order_is_created_with_its_lines_as_details(fx: FxCaller) -> None:
    reply = await fx.call(CREATE, await _order_body(fx, "proc-1"), **NO_FLOWS)
    assert reply["errorCode"] == 0
    order_id = reply["dataId"]
    got = await fx.call(
        "/cgi/crm/v2/data/get", {"dataObjectApiName": "SalesOrderObj", "objectDataId": order_id}
    )
    assert got["data"]["name"].startswith("SO-")
    assert got["data"]["order_amount"] == "37.50"
    lines = await fx.query(
        "SalesOrderProductObj", filters=[in_filter("order_id", [order_id], "EQ")]
    )
    assert [ln["subtotal"] for ln in lines["data"]["dataList"]] == ["37.50"]


async def test_flows_start_unless_both_flags_are_false(
    fx: FxCaller, emulator: FxiaokeEmulator
) -> None:
    await fx.call(CREATE, await _order_body(fx, "quiet"), **NO_FLOWS)
    assert emulator.verbs.flows_started == 0
    await fx.call(CREATE, await _order_body(fx, "noisy"))  # both default to true (◐)
    assert emulator.verbs.flows_started == 2


async def test_a_second_order_with_the_same_external_ref_is_refused(fx: FxCaller) -> None:
    assert (await fx.call(CREATE, await _order_body(fx, "once"), **NO_FLOWS))["errorCode"] == 0
    again = await fx.call(CREATE, await _order_body(fx, "once"), **NO_FLOWS)
    assert again["errorCode"] not in (0, None)


async def test_money_sent_as_a_number_is_refused(fx: FxCaller) -> None:
    body = await _order_body(fx, "float", field_tax_amount__c=1.5)
    assert (await fx.call(CREATE, body, **NO_FLOWS))["errorCode"] != 0


async def test_a_status_that_is_no_option_value_is_refused(fx: FxCaller) -> None:
    body = await _order_body(fx, "label", field_order_status__c="Pending Approval")
    assert (await fx.call(CREATE, body, **NO_FLOWS))["errorCode"] != 0


async def test_update_changes_a_field_and_moves_last_modified_time(fx: FxCaller) -> None:
    order = await _first(fx, "SalesOrderObj")
    data = {
        "object_data": {
            "dataObjectApiName": "SalesOrderObj",
            "_id": order["_id"],
            "field_order_status__c": "approved",
        }
    }
    assert (await fx.call("/cgi/crm/v2/data/update", data, **NO_FLOWS))["errorCode"] == 0
    got = await fx.call(
        "/cgi/crm/v2/data/get", {"dataObjectApiName": "SalesOrderObj", "objectDataId": order["_id"]}
    )
    assert got["data"]["field_order_status__c"] == "approved"
    assert got["data"]["last_modified_time"] > order["last_modified_time"]


async def test_the_owner_cannot_change_through_update(fx: FxCaller) -> None:
    account = await _first(fx, "AccountObj")
    data = {
        "object_data": {"dataObjectApiName": "AccountObj", "_id": account["_id"], "owner": ["x"]}
    }
    assert (await fx.call("/cgi/crm/v2/data/update", data))["errorCode"] != 0


async def test_a_voided_record_leaves_the_query(fx: FxCaller) -> None:
    contact = await _first(fx, "ContactObj")
    data = {"dataObjectApiName": "ContactObj", "object_data_id": contact["_id"]}
    assert (await fx.call("/cgi/crm/v2/data/invalid", data))["errorCode"] == 0
    reply = await fx.query("ContactObj", filters=[in_filter("_id", [contact["_id"]], "EQ")])
    assert reply["data"]["dataList"] == []


async def test_describe_lists_custom_fields_and_their_option_values(fx: FxCaller) -> None:
    reply = await fx.call(
        "/cgi/crm/v2/object/describe", apiName="SalesOrderObj", includeDetail=True
    )
    fields = reply["data"]["describe"]["fields"]
    status = fields["field_order_status__c"]
    assert status["define_type"] == "custom"
    assert status["type"] == "select_one"
    assert {"value": "approved", "label": "Approved"} in status["options"]
    assert fields["field_external_ref__c"]["is_unique"] is True
    assert reply["data"]["details"][0]["api_name"] == "SalesOrderProductObj"
