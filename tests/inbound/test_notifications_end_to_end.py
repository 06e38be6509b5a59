"""Changes made through each emulation's own API reach the gateway's sink as notifications:
the gateway registers its Zoho channel and ERPNext webhooks at startup, the emulations call
/hooks/* over HTTP (ASGI), the receivers authenticate and put `Change`s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.inbound.conftest import Stack
from tests.support.stack import GATEWAY_URL


def keys(stack: Stack) -> set[tuple[str, str, str]]:
    return {(c.system, c.entity, c.record_id) for c in stack.sink.changes}


async def first(stack: Stack, module: str, fields: str = "id") -> dict[str, Any]:
    reply = await stack.crm_api.get(f"/crm/v8/{module}", params={"fields": fields, "per_page": 1})
    row: dict[str, Any] = reply.json()["data"][0]
    return row


async def test_startup_registers_one_channel_and_the_webhooks(stack: Stack) -> None:
    await stack.registered()
    report = stack.inbound.last_report
    assert report is not None
    assert report.ok
    assert [o.action for o in report.outcomes] == ["created"] * 14  # 1 channel + 13 webhooks
    [channel] = (await stack.crm_api.get("/crm/v8/actions/watch")).json()["watch"]
    assert channel["notify_url"] == f"{GATEWAY_URL}/hooks/zoho"
    assert channel["events"] == ["Accounts.all", "Products.all", "Sales_Orders.all"]
    hooks = await stack.erp_api.get(
        "/api/resource/Webhook", params={"fields": '["name"]', "limit_page_length": "0"}
    )
    assert len(hooks.json()["data"]) == 13


async def test_registering_again_changes_nothing(stack: Stack) -> None:
    await stack.registered()
    assert stack.inbound.registrar is not None
    again = await stack.inbound.register(stack.inbound.registrar)
    assert {o.action for o in again.outcomes} == {"unchanged"}


async def test_the_channel_is_renewed_before_it_expires(stack: Stack) -> None:
    await stack.registered()
    registrar = stack.inbound.registrar
    assert registrar is not None
    # time passes: the channel now expires in an hour, within renew_before_s (a day)
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    patch = {"channel_id": registrar.settings.zoho_channel_id, "channel_expiry": soon}
    await stack.crm_api.patch("/crm/v8/actions/watch", json={"watch": [patch]})
    report = await stack.inbound.register(registrar)
    assert report.outcomes[0].action == "updated"
    [channel] = (await stack.crm_api.get("/crm/v8/actions/watch")).json()["watch"]
    left = datetime.fromisoformat(channel["channel_expiry"]) - datetime.now(UTC)
    assert timedelta(days=5, hours=23) < left <= timedelta(days=6)


async def test_the_next_registration_is_before_the_renewal_point(stack: Stack) -> None:
    await stack.registered()
    report = stack.inbound.last_report
    delay = stack.inbound.next_registration(report)
    settings = stack.inbound.settings
    assert delay is not None
    assert abs(delay - (settings.channel_ttl_s - settings.renew_before_s)) < 60


async def test_crm_changes_arrive_as_account_product_and_order_changes(stack: Stack) -> None:
    await stack.registered()
    account = await first(stack, "Accounts")
    product = await first(stack, "Products")
    order = await first(stack, "Sales_Orders")
    await stack.crm_api.put(
        f"/crm/v8/Accounts/{account['id']}", json={"data": [{"Phone": "+49 30 1"}]}
    )
    await stack.crm_api.put(
        f"/crm/v8/Products/{product['id']}", json={"data": [{"Unit_Price": 12.5}]}
    )
    await stack.crm_api.put(
        f"/crm/v8/Sales_Orders/{order['id']}", json={"data": [{"Status": "Cancelled"}]}
    )
    await stack.delivered()
    assert keys(stack) >= {
        ("crm", "account", account["id"]),
        ("crm", "product", product["id"]),
        ("crm", "order", order["id"]),
    }
    account_change = next(c for c in stack.sink.changes if c.entity == "account")
    assert account_change.fields == {"Phone": "+49 30 1"}
    assert {c.origin for c in stack.sink.changes} == {"notification"}


async def test_erp_changes_arrive_for_customer_item_order_shipment_and_stock(stack: Stack) -> None:
    await stack.registered()
    api = stack.erp_api
    customer = (await api.get("/api/resource/Customer")).json()["data"][0]["name"]
    item = (await api.get("/api/resource/Item")).json()["data"][0]["name"]
    await api.put(f"/api/resource/Customer/{customer}", json={"mobile_no": "+49 1"})
    await api.put(f"/api/resource/Item/{item}", json={"description": "changed in the ERP"})
    shipment = (
        await api.get("/api/resource/Shipment", params={"filters": '[["docstatus", "=", 1]]'})
    ).json()["data"][0]["name"]
    await api.put(f"/api/resource/Shipment/{shipment}", json={"tracking_status": "Delivered"})
    order = await submitted_order(stack, item)
    await stack.delivered()
    found = keys(stack)
    assert ("erp", "customer", customer) in found
    assert ("erp", "item", item) in found
    assert ("erp", "shipment", shipment) in found
    assert ("erp", "sales_order", order) in found
    assert any(e == "stock" and r.startswith(f"{item}@") for _, e, r in found)
    versions = [c.version for c in stack.sink.changes if c.system == "erp"]
    assert all(v is not None and v.tzinfo is UTC for v in versions)


async def submitted_order(stack: Stack, item: str) -> str:
    customer = (await stack.erp_api.get("/api/resource/Customer")).json()["data"][0]["name"]
    warehouses = await stack.erp_api.get(
        "/api/resource/Warehouse", params={"filters": '[["is_group", "=", 0]]'}
    )
    warehouse = warehouses.json()["data"][0]["name"]
    today = datetime.now(UTC).date()
    doc = {
        "customer": customer,
        "transaction_date": today.isoformat(),
        "delivery_date": (today + timedelta(days=7)).isoformat(),
        "items": [{"item_code": item, "qty": 1, "rate": 10.0, "warehouse": warehouse}],
        "docstatus": 1,
    }
    reply = await stack.erp_api.post("/api/resource/Sales Order", json=doc)
    assert reply.status_code == 200, reply.text
    name: str = reply.json()["data"]["name"]
    return name


async def test_a_deleted_account_arrives_as_a_delete(stack: Stack) -> None:
    await stack.registered()
    made = await stack.crm_api.post(
        "/crm/v8/Accounts", json={"data": [{"Account_Name": "Short-lived GmbH"}]}
    )
    record_id = made.json()["data"][0]["details"]["id"]
    await stack.crm_api.delete("/crm/v8/Accounts", params={"ids": record_id})
    await stack.delivered()
    ops = [c.operation for c in stack.sink.changes if c.record_id == record_id]
    assert ops == ["insert", "delete"]
