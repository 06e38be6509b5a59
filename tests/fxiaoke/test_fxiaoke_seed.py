"""The Fxiaoke seed holds the same data as the Zoho seed, in Fxiaoke's shape."""

from __future__ import annotations

from decimal import Decimal

from backends.erpnext.store import ErpStore
from backends.fxiaoke.seed import seed_fxiaoke
from backends.fxiaoke.store import FxStore
from backends.seed import seed
from backends.seed_names import MISMATCH_SHIPMENT, UNMATCHED_SKU
from backends.zoho.store import ZohoStore


def _both() -> tuple[ZohoStore, FxStore, ErpStore]:
    zoho, fx, erp_z, erp_f = (
        ZohoStore(":memory:"),
        FxStore(":memory:"),
        ErpStore(":memory:"),
        ErpStore(":memory:"),
    )
    seed(zoho, erp_z, scale=0.05, random_seed=3)
    seed_fxiaoke(fx, erp_f, scale=0.05, random_seed=3)
    return zoho, fx, erp_f


def test_the_same_accounts_products_and_orders_as_the_zoho_seed() -> None:
    zoho, fx, _ = _both()
    z_accounts = zoho.select("Accounts", "1", (), order_by="id")
    f_accounts = fx.select("AccountObj", "1", (), "_id", -1, 0)
    assert [a["Account_Name"] for a in z_accounts] == [a["name"] for a in f_accounts]
    assert [a["Phone"] for a in z_accounts] == [a["tel"] for a in f_accounts]
    z_orders = zoho.select("Sales_Orders", "1", (), order_by="id")
    f_orders = fx.select("SalesOrderObj", "1", (), "_id", -1, 0)
    z_key = [
        (o["SO_Number"], o["External_Ref"], o["Status"], Decimal(str(o["Grand_Total"])))
        for o in z_orders
    ]
    f_key = [
        (
            o["name"],
            o["field_external_ref__c"],
            o["field_order_status__c"],
            Decimal(o["order_amount"]),
        )
        for o in f_orders
    ]
    assert [(n, r, s.lower().replace(" ", "_"), t) for n, r, s, t in z_key] == f_key


def test_the_planted_mismatches_are_there_too() -> None:
    _, fx, erp = _both()
    codes = {p["product_code"] for p in fx.select("ProductObj", "1", (), "_id", -1, 0)}
    assert UNMATCHED_SKU in codes
    first = fx.select("SalesOrderObj", "1", (), "_id", 1, 0)[0]
    assert first["field_order_status__c"] == "cancelled"  # the shipped-but-cancelled order
    shipment = erp.get("Shipment", MISMATCH_SHIPMENT)
    assert shipment is not None
    assert shipment["custom_crm_order_id"] == first["_id"]
