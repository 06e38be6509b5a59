"""Category 3, shipments, planted through both emulations' APIs. None is repaired by
Crossdock: each finding says who must act."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backends.seed_names import MISMATCH_SHIPMENT
from resolvers.ports import CRM_CANCELLED
from resolvers.reconcile import Category, Finding
from resolvers.records import Order, OrderStatus, Shipment
from tests.support.reconcile import Rig

SHIPMENTS = {Category.SHIPMENTS}


async def new_findings(rig: Rig) -> list[Finding]:
    return [f for f in await rig.findings(SHIPMENTS) if f.key[0] != MISMATCH_SHIPMENT]


async def shipped(rig: Rig, status: OrderStatus) -> tuple[Order, list[Shipment]]:
    """An order in `status` with shipments."""
    orders = await rig.orders(status)
    found = await rig.scm.shipments_by_orders([o.id for o in orders], with_destination=False)
    order = next(o for o in orders if found.get(o.id))
    return order, found[order.id]


async def test_a_shipment_of_an_order_cancelled_afterwards_is_found(rig: Rig) -> None:
    order, [shipment] = await shipped(rig, OrderStatus.DELIVERED)
    await rig.crm.set_order_status(order.id, CRM_CANCELLED)

    [finding] = await new_findings(rig)

    assert finding.rule.id == "shipments.shipment_for_cancelled_order"
    assert finding.key == (shipment.id, order.id)
    assert [(r.kind, r.id) for r in finding.records] == [
        ("shipment", shipment.id),
        ("order", order.id),
    ]
    outcome = await rig.repair(finding)
    assert outcome.status == "not_fixable"
    assert "logistics" in outcome.message


async def test_shipments_carrying_more_than_the_order_are_found(rig: Rig) -> None:
    order, _ = await shipped(rig, OrderStatus.DELIVERED)
    line = order.lines[0]
    customer = await rig.erp_customer_of(order)
    note = await rig.scm.wire.insert("Delivery Note", _note(order, customer, line.sku))
    await rig.scm.wire.insert("Shipment", _shipment(order, customer, str(note["name"])))

    found = {f.rule.id: f for f in await new_findings(rig)}

    # the new shipment is not delivered either, while the order is Delivered
    assert set(found) == {"shipments.over_shipped", "shipments.delivered_not_delivered"}
    finding = found["shipments.over_shipped"]
    assert finding.key == (order.id,)
    [difference] = finding.differences
    assert difference.field == f"quantity[{line.sku}]"
    assert difference.crm == format(line.quantity.normalize(), "f")
    assert difference.erp == format((line.quantity + 3).normalize(), "f")
    assert not finding.fix.fixable


async def test_a_delivered_order_whose_shipment_is_still_in_transit_is_found(rig: Rig) -> None:
    _, [shipment] = await shipped(rig, OrderStatus.DELIVERED)
    await rig.scm.wire.update(
        "Shipment", shipment.id, {"tracking_status": "In Progress", "status": "Booked"}
    )

    [finding] = await new_findings(rig)

    assert finding.rule.id == "shipments.delivered_not_delivered"
    assert finding.differences[0].crm == "DELIVERED"
    assert finding.differences[0].erp == "IN_TRANSIT"


def _note(order: Order, customer: str, sku: str) -> dict[str, Any]:
    return {
        "customer": customer,
        "company": "Acme Corp",
        "posting_date": "2026-10-01",
        "set_warehouse": "Stores - AC",
        "custom_crm_order_id": order.id,
        "docstatus": 1,
        "items": [{"item_code": sku, "qty": 3, "rate": 10, "warehouse": "Stores - AC"}],
    }


def _shipment(order: Order, customer: str, note: str) -> dict[str, Any]:
    return {
        "pickup_address_name": "Stores-Warehouse",
        "delivery_address_name": f"{customer}-Shipping",
        "pickup_date": "2026-10-02",
        "description_of_content": "A second parcel",
        "carrier": "DHL",
        "custom_crm_order_id": order.id,
        "docstatus": 1,
        "shipment_delivery_note": [{"delivery_note": note}],
        "shipment_parcel": [{"length": 40, "width": 30, "height": 20, "weight": 4, "count": 1}],
    }


async def test_a_shipment_naming_no_crm_order_is_found_and_left_to_logistics(rig: Rig) -> None:
    order, _ = await shipped(rig, OrderStatus.DELIVERED)
    customer = await rig.erp_customer_of(order)
    ghost = replace(order, id="5725767000999999999")  # no such CRM order
    note = await rig.scm.wire.insert("Delivery Note", _note(ghost, customer, order.lines[0].sku))
    made = await rig.scm.wire.insert("Shipment", _shipment(ghost, customer, str(note["name"])))

    [finding] = await new_findings(rig)

    assert finding.rule.name == "shipment_without_order"
    assert finding.key == (made["name"], ghost.id)
    assert finding.values == {"erp.custom_crm_order_id": ghost.id}
    outcome = await rig.repair(finding)
    assert outcome.status == "not_fixable"


async def test_calls_grow_with_pages_not_rows(rig: Rig) -> None:
    await rig.findings(["product_without_item"])  # the OAuth token first
    rig.zoho.stats.reset()
    rig.erp.stats.reset()

    await rig.findings(SHIPMENTS)

    orders = rig.zoho.store.count("Sales_Orders")
    shipments = rig.erp.store.count("Shipment")
    pages = -(-orders // 200) + -(-shipments // 200)
    assert rig.erp.stats.total <= 4 * pages + 2  # a page and its batched joins
    assert rig.zoho.stats.total <= 2 * pages + 2
