from __future__ import annotations

from typing import Any

import httpx

from tests.support.erpnext_emulation import messages, q, sales_order


async def bin_of(client: httpx.AsyncClient, item_code: str) -> dict[str, Any]:
    response = await client.get(
        "/api/resource/Bin",
        params=q(fields=["actual_qty", "reserved_qty", "reserved_stock", "projected_qty"],
                 filters={"item_code": item_code, "warehouse": "Stores - AC"}),
    )  # fmt: skip
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows[0]


async def submit(client: httpx.AsyncClient, doctype: str, doc: dict[str, Any]) -> httpx.Response:
    created = await client.post(f"/api/resource/{doctype}", json=doc)
    assert created.status_code == 200, created.text
    return await client.put(
        f"/api/resource/{doctype}/{created.json()['data']['name']}", json={"docstatus": 1}
    )


async def test_submitting_an_order_reserves_and_cancelling_releases(
    client: httpx.AsyncClient,
) -> None:
    before = await bin_of(client, "WIDGET-1")
    submitted = await submit(client, "Sales Order", sales_order())
    assert submitted.json()["data"]["status"] == "To Deliver and Bill"
    during = await bin_of(client, "WIDGET-1")
    assert (during["reserved_qty"], during["projected_qty"]) == (10.0, 90.0)
    assert during["reserved_stock"] == 0.0  # reserve_stock off: no Stock Reservation Entry
    name = submitted.json()["data"]["name"]
    cancelled = await client.put(f"/api/resource/Sales Order/{name}", json={"docstatus": 2})
    assert cancelled.json()["data"]["status"] == "Cancelled"
    assert await bin_of(client, "WIDGET-1") == before


async def test_reserve_stock_creates_entries_that_raise_reserved_stock(
    client: httpx.AsyncClient,
) -> None:
    submitted = await submit(client, "Sales Order", sales_order(reserve_stock=1))
    order = submitted.json()["data"]
    assert order["items"][0]["stock_reserved_qty"] == 10.0
    entries = await client.get(
        "/api/resource/Stock Reservation Entry",
        params=q(fields=["voucher_no", "voucher_detail_no", "reserved_qty", "status", "docstatus"]),
    )
    assert entries.json()["data"] == [
        {"voucher_no": order["name"], "voucher_detail_no": order["items"][0]["name"],
         "reserved_qty": 10.0, "status": "Reserved", "docstatus": 1}
    ]  # fmt: skip
    assert (await bin_of(client, "WIDGET-1"))["reserved_stock"] == 10.0
    await client.put(f"/api/resource/Sales Order/{order['name']}", json={"docstatus": 2})
    assert (await bin_of(client, "WIDGET-1"))["reserved_stock"] == 0.0
    statuses = await client.get(
        "/api/resource/Stock Reservation Entry", params=q(fields=["status"])
    )
    assert statuses.json()["data"] == [{"status": "Cancelled"}]


async def test_short_stock_reserves_what_is_free_and_says_so(client: httpx.AsyncClient) -> None:
    gadgets = [{"item_code": "GADGET-2", "qty": 5, "warehouse": "Stores - AC"}]
    submitted = await submit(client, "Sales Order", sales_order(reserve_stock=1, items=gadgets))
    assert submitted.status_code == 200
    assert submitted.json()["data"]["items"][0]["stock_reserved_qty"] == 3.0
    assert messages(submitted.json()) == [
        "Row #1: Only 3.0 available to reserve for the Item GADGET-2 in Warehouse Stores - AC."
    ]


async def test_delivery_note_delivers_against_the_order(client: httpx.AsyncClient) -> None:
    order = (await submit(client, "Sales Order", sales_order(reserve_stock=1))).json()["data"]
    row = order["items"][0]
    note = {
        "customer": "Globex",
        "custom_crm_order_id": order["custom_crm_order_id"],
        "items": [{"item_code": "WIDGET-1", "qty": 4, "warehouse": "Stores - AC",
                   "against_sales_order": order["name"], "so_detail": row["name"]}],
    }  # fmt: skip
    delivered = await submit(client, "Delivery Note", note)
    assert delivered.json()["data"]["name"].startswith("MAT-DN-")
    assert delivered.json()["data"]["status"] == "To Bill"
    after = (await client.get(f"/api/resource/Sales Order/{order['name']}")).json()["data"]
    assert (after["per_delivered"], after["status"]) == (40.0, "To Deliver and Bill")
    assert (after["items"][0]["delivered_qty"], after["items"][0]["stock_reserved_qty"]) == (
        4.0,
        6.0,
    )
    assert await bin_of(client, "WIDGET-1") == {
        "actual_qty": 96.0, "reserved_qty": 6.0, "reserved_stock": 6.0, "projected_qty": 90.0
    }  # fmt: skip
    refused = await client.put(f"/api/resource/Sales Order/{order['name']}", json={"docstatus": 2})
    assert refused.json()["exc_type"] == "LinkExistsError"


async def test_delivering_the_rest_completes_delivery(client: httpx.AsyncClient) -> None:
    order = (await submit(client, "Sales Order", sales_order())).json()["data"]
    row = order["items"][0]
    note = {"customer": "Globex", "items": [
        {"item_code": "WIDGET-1", "qty": 10, "warehouse": "Stores - AC",
         "against_sales_order": order["name"], "so_detail": row["name"]}]}  # fmt: skip
    await submit(client, "Delivery Note", note)
    after = (await client.get(f"/api/resource/Sales Order/{order['name']}")).json()["data"]
    assert (after["per_delivered"], after["status"], after["delivery_status"]) == (
        100.0, "To Bill", "Fully Delivered"
    )  # fmt: skip
    over = await submit(client, "Delivery Note", note)
    assert (over.status_code, over.json()["exc_type"]) == (417, "OverAllowanceError")


async def test_delivery_beyond_stock_is_a_negative_stock_error(client: httpx.AsyncClient) -> None:
    note = {"customer": "Globex",
            "items": [{"item_code": "GADGET-2", "qty": 4, "warehouse": "Stores - AC"}]}  # fmt: skip
    response = await submit(client, "Delivery Note", note)
    assert (response.status_code, response.json()["exc_type"]) == (417, "NegativeStockError")
    assert (await bin_of(client, "GADGET-2"))["actual_qty"] == 3.0  # rolled back


def shipment(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "pickup_company": "Acme Corp", "pickup_address_name": "Acme Corp-Billing",
        "delivery_customer": "Globex", "delivery_address_name": "Globex-Shipping",
        "pickup_date": "2026-03-05", "description_of_content": "Widgets",
        "carrier": "DHL", "custom_crm_order_id": "5725767000000100",
        "value_of_goods": 40.0, "shipment_parcel": [{"weight": 2.5, "count": 1}],
    }  # fmt: skip
    doc.update(overrides)
    return doc


async def test_shipment_submit_needs_parcels_and_value(client: httpx.AsyncClient) -> None:
    no_parcel = await submit(client, "Shipment", shipment(shipment_parcel=[]))
    no_value = await submit(client, "Shipment", shipment(value_of_goods=0))
    assert messages(no_parcel.json()) == ["Please enter Shipment Parcel information"]
    assert messages(no_value.json()) == ["Value of goods cannot be 0"]
    zero_weight = await client.post(
        "/api/resource/Shipment", json=shipment(shipment_parcel=[{"weight": 0}])
    )
    assert messages(zero_weight.json()) == ["Parcel weight cannot be 0"]


async def test_submitted_shipment_takes_tracking_updates(client: httpx.AsyncClient) -> None:
    done = (await submit(client, "Shipment", shipment())).json()["data"]
    assert done["name"].startswith("SHIPMENT-")
    assert done["status"] == "Submitted"
    tracked = await client.put(
        f"/api/resource/Shipment/{done['name']}",
        json={"awb_number": "JD0123", "tracking_status": "In Progress"},
    )
    assert tracked.json()["data"]["awb_number"] == "JD0123"
    moved = await client.put(
        f"/api/resource/Shipment/{done['name']}", json={"pickup_date": "2026-04-01"}
    )
    assert moved.json()["exc_type"] == "UpdateAfterSubmitError"


async def test_bins_touched_by_a_submit_move_their_modified_stamp(
    client: httpx.AsyncClient,
) -> None:
    stamp = (await client.get("/api/resource/Bin", params=q(fields=["modified"], limit="1"))).json()
    await submit(client, "Sales Order", sales_order())
    changed = await client.get(
        "/api/resource/Bin",
        params=q(filters=[["modified", ">", stamp["data"][0]["modified"]]], fields=["item_code"]),
    )
    assert changed.json()["data"] == [{"item_code": "WIDGET-1"}]
