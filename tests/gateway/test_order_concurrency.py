"""Concurrent placeOrder calls through the gateway over HTTP never oversell (issue 13, case 3).

Eight customers, eight subjects, 60 units of one SKU each, 53 / 53 / 84 in the three
warehouses: one order fits (84), the others are held; the ERP's Stock Reservation Entries and
Bins are read directly afterwards.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from backends.erpnext.store import ErpStore
from backends.seed_names import LEAF_WAREHOUSES
from gateway.auth.tokens import mint
from gateway.settings import Settings
from tests.support.stack import (
    GATEWAY_URL,
    JWT_SECRET,
    ClientFor,
    GraphQLClient,
    SeededStores,
    fresh_stores,
    order_process_settings,
)

PLACE = """mutation($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) {
    status order { id } reservations { quantity reserved } } }"""


@pytest.fixture
def seeded_stores(tmp_path: Path) -> SeededStores:
    return fresh_stores(tmp_path, random_seed=11)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # stock alone decides here
    return order_process_settings(tmp_path, require_credit=False)


def sales_client(app: Starlette, subject: str) -> GraphQLClient:
    token = mint(JWT_SECRET, subject=subject, roles=["sales"])
    return GraphQLClient(
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=GATEWAY_URL,
            headers={"Authorization": f"Bearer {token}", "x-crossdock-csrf": "1"},
        )
    )


async def test_eight_concurrent_checkouts_through_the_gateway_reserve_only_what_exists(
    client_for: ClientFor, gateway_app: Starlette, seeded_stores: SeededStores
) -> None:
    admin = client_for("admin")
    data = await admin.data(
        "{ customers(first: 8) { nodes { id } }"
        " products(first: 50) { nodes { sku active available } } }"
    )
    sku = next(p["sku"] for p in data["products"]["nodes"] if p["active"] and p["available"])
    erp = seeded_stores.erp
    for warehouse, qty in zip(LEAF_WAREHOUSES, (53, 53, 84), strict=True):
        erp.execute(
            "UPDATE tabBin SET actual_qty = reserved_qty + ? WHERE item_code = ? AND warehouse = ?",
            (qty, sku, warehouse),
        )
    erp.recompute_bins()
    before = {b["warehouse"]: b for b in _bins(erp, sku)}
    free = sum(b["actual_qty"] - b["reserved_qty"] for b in before.values())
    assert free == 190

    clients = [sales_client(gateway_app, f"seller-{i}") for i in range(8)]
    customers = [c["id"] for c in data["customers"]["nodes"]]
    bodies = await asyncio.gather(*(
        c.data(PLACE, input={"customerId": customer, "lines": [{"sku": sku, "quantity": "60"}]},
               key=f"http-rush-{i}")
        for i, (c, customer) in enumerate(zip(clients, customers, strict=True))
    ))  # fmt: skip
    for c in clients:
        await c.http.aclose()

    results = [b["placeOrder"] for b in bodies]
    assert sorted(r["status"] for r in results) == ["APPROVED"] + ["PENDING_APPROVAL"] * 7
    entries = erp.query(  # the seed has none: every entry is one of these orders
        "SELECT voucher_no, SUM(reserved_qty - delivered_qty) AS held FROM "
        '"tabStock Reservation Entry" WHERE item_code = ? AND docstatus = 1 GROUP BY voucher_no',
        (sku,),
    )
    assert [e["held"] for e in entries] == [60.0]
    approved = next(r for r in results if r["status"] == "APPROVED")
    assert approved["reservations"] == [{"quantity": 60.0, "reserved": 60.0}]
    assert all(b["projected_qty"] >= 0 for b in _bins(erp, sku))


def _bins(erp: ErpStore, sku: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = erp.query(
        "SELECT warehouse, actual_qty, reserved_qty, projected_qty FROM tabBin WHERE item_code = ?",
        (sku,),
    )
    return rows
