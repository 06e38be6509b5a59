"""ERPNext reads against the emulated ERPNext: canonical records, batching, paging, filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from backends.erpnext.app import ErpEmulator
from backends.erpnext.store import ErpStore
from resolvers.erpnext import ERPNext
from resolvers.errors import BackendUnavailable
from resolvers.records import Address, Money, ShipmentLine, ShipmentStatus
from tests.support.connectors import (
    RecordingTransport,
    SleepSpy,
    erp_bin,
    erp_item,
    erp_options,
)


def calls(emulator: ErpEmulator, route: str) -> int:
    return int(emulator.stats.snapshot()["routes"].get(route, 0))


def seed_shipments(store: ErpStore, count: int, **overrides: Any) -> None:
    store.insert("Customer", [{"name": "Cust A", "customer_name": "Cust A"}])
    store.insert(
        "Address",
        [
            {
                "name": "Cust A-Shipping",
                "address_title": "Cust A",
                "address_line1": "Hauptstr. 1",
                "city": "Berlin",
                "pincode": "10115",
                "country": "Germany",
            }
        ],
    )
    store.insert("Item", [erp_item("SKU-1"), erp_item("SKU-2")])
    store.insert(
        "Delivery Note",
        [
            {
                "name": f"MAT-DN-2026-{n:05d}",
                "customer": "Cust A",
                "company": "Acme Corp",
                "docstatus": 1,
                "status": "Completed",
                "custom_crm_order_id": f"crm-{n}",
                "items": [
                    {"item_code": "SKU-1", "qty": 2, "warehouse": "Stores - AC"},
                    {"item_code": "SKU-2", "qty": 1.5, "warehouse": "Stores - AC"},
                    {"item_code": "SKU-1", "qty": 1, "warehouse": "Stores - AC"},
                ],
            }
            for n in range(1, count + 1)
        ],
    )
    store.insert(
        "Shipment",
        [
            {
                "name": f"SHIPMENT-{n:05d}",
                "docstatus": 1,
                "status": "Submitted",
                "tracking_status": "In Progress" if n % 2 else "",
                "carrier": "DHL" if n % 3 else "UPS",
                "custom_crm_order_id": f"crm-{n}",
                "pickup_date": "2026-06-28",
                "delivery_address_name": "Cust A-Shipping",
                "value_of_goods": 59.9,
                "awb_number": f"AWB{n}",
                "modified": "2026-06-27 10:00:00.000000",
                "shipment_delivery_note": [{"delivery_note": f"MAT-DN-2026-{n:05d}"}],
                "shipment_parcel": [{"weight": 1, "count": 1}],
                **overrides,
            }
            for n in range(1, count + 1)
        ],
    )


async def test_items_and_bins_come_back_as_decimals_with_utc_times(
    scm: ERPNext, erp_store: ErpStore
) -> None:
    erp_store.insert("Item", [erp_item("SKU-1", rate=7.25)])
    erp_store.insert(
        "Bin", [erp_bin("SKU-1", "Stores - AC", 100), erp_bin("SKU-1", "Berlin Hub - AC", 3)]
    )
    erp_store.recompute_bins()

    items = await scm.get_items(["SKU-1", "SKU-404"])
    bins = await scm.list_bins(["SKU-1", "SKU-404"])

    assert list(items) == ["SKU-1"]
    assert items["SKU-1"].updated_at == datetime(2026, 6, 27, 8, 0, tzinfo=UTC)  # Berlin summer
    assert items["SKU-1"].unit_cost == Money(Decimal("7.25"), "USD")
    assert [(s.warehouse_id, s.on_hand, s.available) for s in bins["SKU-1"]] == [
        ("Berlin Hub - AC", Decimal(3), Decimal(3)),
        ("Stores - AC", Decimal(100), Decimal(100)),
    ]
    assert bins["SKU-404"] == []


async def test_250_skus_cost_two_bin_calls_with_explicit_fields_and_page_length(
    scm: ERPNext, erp_store: ErpStore, erp_emulator: ErpEmulator, erp_wire: RecordingTransport
) -> None:
    skus = [f"SKU-{n}" for n in range(250)]
    erp_store.insert("Item", [erp_item(s) for s in skus])
    erp_store.insert("Bin", [erp_bin(s, "Stores - AC", 1) for s in skus])

    bins = await scm.list_bins(skus + skus[:10])

    assert sum(len(v) for v in bins.values()) == 250
    assert calls(erp_emulator, "POST /api/method/frappe.client.get_list") == 1  # 200 keys
    assert calls(erp_emulator, "GET /api/resource/Bin") == 1  # the other 50
    [posted] = [json.loads(r.content) for r in erp_wire.requests if r.method == "POST"]
    [sent] = erp_wire.params("/api/resource/Bin")
    assert posted["doctype"] == "Bin"
    assert posted["limit_page_length"] == 500
    assert sent["limit_page_length"] == "500"
    assert posted["fields"] == json.loads(sent["fields"])
    assert [len(posted["filters"][0][2]), len(json.loads(sent["filters"])[0][2])] == [200, 50]


async def test_a_full_page_is_followed_by_another_until_a_short_one(
    erp_client: httpx.AsyncClient, erp_store: ErpStore, erp_emulator: ErpEmulator
) -> None:
    scm = ERPNext(erp_client, erp_options(page_size=2))
    erp_store.insert("Item", [erp_item("SKU-1")])
    erp_store.insert(
        "Warehouse",
        [
            {"name": f"W{n} - AC", "warehouse_name": f"W{n}", "company": "Acme Corp"}
            for n in range(3)
        ],
    )
    erp_store.insert("Bin", [erp_bin("SKU-1", f"W{n} - AC", n) for n in range(3)])
    erp_store.insert(
        "Bin", [erp_bin("SKU-1", "Stores - AC", 9), erp_bin("SKU-1", "Berlin Hub - AC", 9)]
    )

    bins = await scm.list_bins(["SKU-1"])

    assert len(bins["SKU-1"]) == 5
    assert calls(erp_emulator, "GET /api/resource/Bin") == 3  # 2 + 2 + 1


async def test_only_non_group_warehouses_are_listed(scm: ERPNext) -> None:
    warehouses = await scm.list_warehouses()

    assert sorted(w.id for w in warehouses) == ["Berlin Hub - AC", "Stores - AC"]
    assert {w.name for w in warehouses} == {"Berlin Hub", "Stores"}


async def test_thirty_shipments_with_lines_and_destinations_cost_four_calls(
    scm: ERPNext, erp_store: ErpStore, erp_emulator: ErpEmulator
) -> None:
    seed_shipments(erp_store, 30)

    found = await scm.shipments_by_orders([f"crm-{n}" for n in range(1, 31)] + ["crm-404"])

    first = found["crm-1"][0]
    assert first.status is ShipmentStatus.IN_TRANSIT  # tracking_status wins over status
    assert found["crm-2"][0].status is ShipmentStatus.BOOKED
    assert first.lines == (ShipmentLine("SKU-1", Decimal(3)), ShipmentLine("SKU-2", Decimal("1.5")))
    assert first.destination == Address(
        street="Hauptstr. 1", city="Berlin", postal_code="10115", country="DE"
    )
    assert first.value == Money(Decimal("59.9"), "USD")
    assert first.tracking_number == "AWB1"
    assert found["crm-404"] == []
    routes = erp_emulator.stats.snapshot()["routes"]
    assert routes == {
        "GET /api/resource/Shipment": 1,
        "GET /api/resource/Shipment Delivery Note": 1,
        "GET /api/resource/Delivery Note Item": 1,
        "GET /api/resource/Address": 1,
    }


async def test_a_carrier_filter_is_pushed_down_and_rechecked(
    scm: ERPNext, erp_store: ErpStore, erp_wire: RecordingTransport
) -> None:
    seed_shipments(erp_store, 6)

    found = await scm.get_shipments([f"SHIPMENT-{n:05d}" for n in range(1, 7)], carrier="UPS")

    assert sorted(found) == ["SHIPMENT-00003", "SHIPMENT-00006"]
    filters = json.loads(erp_wire.params("/api/resource/Shipment")[0]["filters"])
    assert ["carrier", "=", "UPS"] in filters


async def test_walking_every_shipment_page_gives_the_full_listing_once(
    scm: ERPNext, erp_store: ErpStore
) -> None:
    seed_shipments(erp_store, 23)

    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await scm.list_shipments(first=5, after=cursor)
        seen += [s.id for s in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    everything = await scm.list_shipments(first=100, after=None)
    assert seen == [s.id for s in everything.items]
    assert len(set(seen)) == 23


async def test_status_and_modified_since_are_pushed_into_the_shipment_query(
    scm: ERPNext, erp_store: ErpStore, erp_wire: RecordingTransport
) -> None:
    seed_shipments(erp_store, 8)

    since = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    booked = await scm.list_shipments(
        first=20, after=None, status=ShipmentStatus.BOOKED, modified_since=since
    )

    assert sorted(s.id for s in booked.items) == [f"SHIPMENT-{n:05d}" for n in (2, 4, 6, 8)]
    sent = erp_wire.params("/api/resource/Shipment")[0]
    assert ["modified", ">=", "2026-06-01 02:00:00.000000"] in json.loads(sent["filters"])
    assert ["status", "in", ["Submitted", "Booked"]] in json.loads(sent["or_filters"])


async def test_an_erpnext_outage_is_unavailable_after_the_retries(
    scm: ERPNext, erp_emulator: ErpEmulator, sleep: SleepSpy
) -> None:
    erp_emulator.controls.update({"down": True})

    with pytest.raises(BackendUnavailable) as caught:
        await scm.list_bins(["SKU-1"])

    assert caught.value.message == "ERPNext returned 503 for GET /api/resource/Bin; retried 2 times"
    assert caught.value.system == "scm"
    assert len(sleep.delays) == 2


async def test_shipments_without_destination_skip_the_address_call(
    scm: ERPNext, erp_store: ErpStore, erp_emulator: ErpEmulator
) -> None:
    seed_shipments(erp_store, 4)
    names = [f"SHIPMENT-{n:05d}" for n in range(1, 5)]

    by_id = await scm.get_shipments(names, with_destination=False)
    page = await scm.list_shipments(first=4, after=None, with_destination=False)

    assert sorted(by_id) == names
    assert sorted(s.id for s in page.items) == names
    assert all(s.destination is None for s in [*by_id.values(), *page.items])
    assert all(s.lines for s in [*by_id.values(), *page.items])
    assert calls(erp_emulator, "GET /api/resource/Address") == 0
    with_address = await scm.get_shipments(names[:1])
    assert with_address[names[0]].destination is not None
    assert calls(erp_emulator, "GET /api/resource/Address") == 1
