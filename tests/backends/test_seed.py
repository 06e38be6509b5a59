"""The seed data: deterministic, scaled, consistent across systems except the listed mismatches."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backends.erpnext.doctypes import DOCTYPES
from backends.erpnext.store import ErpStore
from backends.seed import MISMATCHES, SeedReport, seed
from backends.zoho.fields import MODULES
from backends.zoho.store import ZohoStore

SCALE = 0.05  # 10 accounts, 10 products, 100 orders: fast, yet every status and carrier shows up


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[ZohoStore, ErpStore, SeedReport]]:
    zoho, erp = ZohoStore(":memory:"), ErpStore(":memory:")
    report = seed(zoho, erp, scale=SCALE)
    yield zoho, erp, report
    zoho.close()
    erp.close()


def _dump(zoho: ZohoStore, erp: ErpStore) -> str:
    crm = {m: zoho.select(m, "1", (), order_by="id") for m in MODULES}
    scm = {d.name: erp.query(f"SELECT * FROM {d.table} ORDER BY name") for d in DOCTYPES.values()}
    return json.dumps({"crm": crm, "scm": scm}, sort_keys=True)


def _seeded_dump(tmp_path: Path, tag: str, random_seed: int) -> str:
    zoho = ZohoStore(tmp_path / f"{tag}-zoho.sqlite3")
    erp = ErpStore(tmp_path / f"{tag}-erp.sqlite3")
    seed(zoho, erp, scale=SCALE, random_seed=random_seed)
    try:
        return _dump(zoho, erp)
    finally:
        zoho.close()
        erp.close()


def _crm_orders(zoho: ZohoStore) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for o in zoho.select("Sales_Orders", "1", ())}


def _mirrors(erp: ErpStore) -> list[dict[str, Any]]:
    names = [r["name"] for r in erp.query('SELECT name FROM "tabSales Order"')]
    return [doc for name in names if (doc := erp.get("Sales Order", name))]


def test_same_inputs_give_byte_identical_data(tmp_path: Path) -> None:
    assert _seeded_dump(tmp_path, "a", 7) == _seeded_dump(tmp_path, "b", 7)


def test_another_random_seed_gives_other_data(tmp_path: Path) -> None:
    assert _seeded_dump(tmp_path, "a", 7) != _seeded_dump(tmp_path, "b", 8)


def test_counts_follow_the_scale_and_match_the_report(seeded: Any) -> None:
    zoho, erp, report = seeded
    assert report.counts["zoho.Accounts"] == zoho.count("Accounts") == 10
    assert report.counts["zoho.Sales_Orders"] == zoho.count("Sales_Orders") == 100
    assert zoho.count("Products") == 11  # 10 shared + the CRM-only mismatch
    assert erp.count("Item") == 10
    assert erp.count("Warehouse") == 4
    assert erp.count("Bin") == 10 * 3
    assert erp.count("Customer") == 11  # one per account + the dangling crosswalk
    assert 10 <= zoho.count("Contacts") <= 20
    assert all(report.counts[key] == erp.count(key.split(".", 1)[1]) for key in report.counts
               if key.startswith("erpnext."))  # fmt: skip


@pytest.mark.parametrize("scale", [0, -1, 101])
def test_a_scale_outside_the_supported_range_is_refused(scale: float) -> None:
    zoho, erp = ZohoStore(":memory:"), ErpStore(":memory:")
    with pytest.raises(ValueError, match="scale"):
        seed(zoho, erp, scale=scale)
    assert zoho.count("Accounts") == 0
    zoho.close()
    erp.close()


def test_orders_cover_every_status_and_shipments_every_carrier(seeded: Any) -> None:
    zoho, erp, _ = seeded
    statuses = Counter(o["Status"] for o in _crm_orders(zoho).values())
    assert set(statuses) == {"Created", "Pending Approval", "Approved", "Delivered", "Cancelled"}
    carriers = {r["carrier"] for r in erp.query("SELECT carrier FROM tabShipment")}
    assert carriers == {"DHL", "UPS", "FedEx", "DPD"}


def test_every_mirror_is_a_crm_order_with_the_same_lines(seeded: Any) -> None:
    zoho, erp, _ = seeded
    orders = _crm_orders(zoho)
    mirrors = _mirrors(erp)
    assert mirrors
    for mirror in mirrors:
        order = orders[mirror["custom_crm_order_id"]]
        crm_lines = [(ln["Product_Name"]["Product_Code"], ln["Quantity"], ln["List_Price"])
                     for ln in order["Ordered_Items"]]  # fmt: skip
        erp_lines = [(i["item_code"], i["qty"], i["rate"]) for i in mirror["items"]]
        assert erp_lines == crm_lines
        assert mirror["customer"] == order["Account_Name"]["name"]
        assert mirror["grand_total"] == order["Grand_Total"]
        expected = {"Approved": 1, "Delivered": 1, "Cancelled": 2}[order["Status"]]
        assert mirror["docstatus"] == expected


def test_approved_and_delivered_orders_all_have_submitted_mirrors(seeded: Any) -> None:
    zoho, erp, _ = seeded
    submitted = {m["custom_crm_order_id"] for m in _mirrors(erp) if m["docstatus"] == 1}
    shipped = {i for i, o in _crm_orders(zoho).items() if o["Status"] in ("Approved", "Delivered")}
    assert submitted == shipped


def test_every_shared_sku_exists_in_both_systems_except_the_documented_one(seeded: Any) -> None:
    zoho, erp, _ = seeded
    crm = {p["Product_Code"] for p in zoho.select("Products", "1", ())}
    scm = {r["item_code"] for r in erp.query("SELECT item_code FROM tabItem")}
    assert crm - scm == {"SKU-00999"}
    assert scm <= crm
    assert all(re.fullmatch(r"SKU-\d{5}", sku) for sku in crm)


def test_bins_reserve_what_submitted_mirrors_have_not_delivered(seeded: Any) -> None:
    _, erp, _ = seeded
    pending: Counter[tuple[str, str]] = Counter()
    for mirror in _mirrors(erp):
        if mirror["docstatus"] == 1:
            for item in mirror["items"]:
                pending[item["item_code"], item["warehouse"]] += item["qty"] - item["delivered_qty"]
    assert sum(pending.values()) > 0
    for b in erp.query("SELECT * FROM tabBin"):
        assert b["reserved_qty"] == pending[b["item_code"], b["warehouse"]]
        assert b["actual_qty"] >= b["reserved_qty"]
        assert b["projected_qty"] == b["actual_qty"] - b["reserved_qty"]


def test_delivery_notes_carry_exactly_the_delivered_quantities(seeded: Any) -> None:
    _, erp, _ = seeded
    noted = Counter[str]()
    for row in erp.query(
        'SELECT so_detail, qty FROM "tabDelivery Note Item" WHERE so_detail IS NOT NULL'
    ):
        noted[row["so_detail"]] += row["qty"]
    rows = erp.query(
        'SELECT name, delivered_qty FROM "tabSales Order Item" WHERE delivered_qty > 0'
    )
    delivered = {r["name"]: r["delivered_qty"] for r in rows}
    assert delivered
    assert dict(noted) == delivered


def test_shipments_point_to_notes_and_addresses_that_exist(seeded: Any) -> None:
    _, erp, _ = seeded
    for row in erp.query("SELECT name FROM tabShipment"):
        shipment = erp.get("Shipment", row["name"])
        assert shipment is not None
        assert shipment["shipment_parcel"]
        assert erp.exists("Address", shipment["delivery_address_name"])
        assert erp.exists("Address", shipment["pickup_address_name"])
        for link in shipment["shipment_delivery_note"]:
            note = erp.get("Delivery Note", link["delivery_note"])
            assert note is not None
            assert note["custom_crm_order_id"] == shipment["custom_crm_order_id"]
            assert link["grand_total"] == note["grand_total"] == shipment["value_of_goods"]


def test_the_mismatches_are_listed_and_present(seeded: Any) -> None:
    zoho, erp, report = seeded
    assert report.mismatches == MISMATCHES
    kinds = {m.kind: m for m in MISMATCHES}
    assert set(kinds) == {
        "crm_product_without_item", "shipment_for_cancelled_order", "dangling_customer_crosswalk"
    }  # fmt: skip

    sku = kinds["crm_product_without_item"].key
    assert zoho.select("Products", "product_code = ?", (sku,))
    assert not erp.exists("Item", sku)

    shipment = erp.get("Shipment", kinds["shipment_for_cancelled_order"].key)
    assert shipment is not None
    assert _crm_orders(zoho)[shipment["custom_crm_order_id"]]["Status"] == "Cancelled"

    customer = erp.get("Customer", kinds["dangling_customer_crosswalk"].key)
    assert customer is not None
    assert not zoho.get("Accounts", [customer["custom_crm_account_id"]])


def test_no_other_customer_or_shipment_disagrees_with_the_crm(seeded: Any) -> None:
    zoho, erp, _ = seeded
    accounts = {a["id"] for a in zoho.select("Accounts", "1", ())}
    dangling = [c for c in erp.query("SELECT custom_crm_account_id AS id FROM tabCustomer")
                if c["id"] not in accounts]  # fmt: skip
    assert len(dangling) == 1
    orders = _crm_orders(zoho)
    cancelled = [s for s in erp.query("SELECT custom_crm_order_id AS id FROM tabShipment")
                 if orders[s["id"]]["Status"] == "Cancelled"]  # fmt: skip
    assert len(cancelled) == 1


def test_wire_formats_follow_each_dialect(seeded: Any) -> None:
    zoho, erp, _ = seeded
    order = zoho.select("Sales_Orders", "1", (), limit=1)[0]
    assert re.fullmatch(r"\d{19}", order["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", order["Created_Time"])
    assert order["Account_Name"].keys() == {"name", "id"}
    mirror = erp.query('SELECT creation, transaction_date FROM "tabSales Order" LIMIT 1')[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", mirror["creation"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", mirror["transaction_date"])
