"""`StockLevel.reorderLevel`, `reorderQuantity`, `belowReorderLevel`: ERPNext's Item Reorder
rows, read for a whole page with one ERPNext call (counted at the emulation), equal to what
ERPNext's REST API answers, and changed when the ERP's level changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from tests.schema.test_batching import count_calls
from tests.support.stack import ERP_URL, ClientFor, GraphQLClient

STOCK = """query($first: Int!) { products(first: $first) { nodes { sku stock {
  warehouse { id } projected reorderLevel reorderQuantity belowReorderLevel } } } }"""


def erp_api(scm_emulator: ErpEmulator) -> httpx.AsyncClient:
    """ERPNext's own REST API (the emulation), as an operator or another client uses it."""
    settings = scm_emulator.settings
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=scm_emulator.app),
        base_url=ERP_URL,
        headers={"Authorization": f"token {settings.api_key}:{settings.api_secret}"},
    )


async def reorder_rows(scm_emulator: ErpEmulator) -> dict[tuple[str, str], dict[str, Any]]:
    fields = ["parent", "warehouse", "warehouse_reorder_level", "warehouse_reorder_qty"]
    params = {"fields": json.dumps(fields), "parent": "Item", "limit_page_length": "0"}
    async with erp_api(scm_emulator) as api:
        answer = await api.get("/api/resource/Item Reorder", params=params)
    assert answer.status_code == 200, answer.text
    return {(r["parent"], r["warehouse"]): r for r in answer.json()["data"]}


def levels(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for product in data["products"]["nodes"]:
        for level in product["stock"]:
            yield product["sku"], level


@pytest.mark.parametrize("first", [3, 40])
async def test_a_page_of_stock_reads_reorder_levels_with_one_call_whatever_its_size(
    gql: GraphQLClient, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator, first: int
) -> None:
    data, _, scm_routes = await count_calls(gql, crm_emulator, scm_emulator, STOCK, first=first)
    assert scm_routes == {"GET /api/resource/Bin": 1, "GET /api/resource/Item Reorder": 1}
    expected = await reorder_rows(scm_emulator)
    seen = below = 0
    for sku, level in levels(data):
        row = expected.get((sku, level["warehouse"]["id"]))
        if row is None:
            assert (level["reorderLevel"], level["belowReorderLevel"]) == (None, False)
            continue
        seen += 1
        assert level["reorderLevel"] == row["warehouse_reorder_level"]
        assert level["reorderQuantity"] == row["warehouse_reorder_qty"]
        verdict = level["projected"] <= row["warehouse_reorder_level"]
        assert level["belowReorderLevel"] is verdict
        below += verdict
    assert seen > 0
    if first == 40:
        assert 0 < below < seen  # the seed has both kinds


async def test_the_erps_new_level_is_read_at_once(
    gql: GraphQLClient, scm_emulator: ErpEmulator
) -> None:
    """A level changed through ERPNext's REST API (PUT Item with its reorder_levels)."""
    query = """{ product(sku: "SKU-00001") { stock { warehouse { id } projected
      reorderLevel belowReorderLevel } } }"""
    before = (await gql.data(query))["product"]["stock"]
    stores = next(s for s in before if s["warehouse"]["id"] == "Stores - AC")
    async with erp_api(scm_emulator) as api:
        item = (await api.get("/api/resource/Item/SKU-00001")).json()["data"]
        original = item["reorder_levels"]
        high = stores["projected"] + 10
        row = {"warehouse": "Stores - AC", "warehouse_reorder_level": high}
        row["warehouse_reorder_qty"] = 50
        try:
            put = await api.put("/api/resource/Item/SKU-00001", json={"reorder_levels": [row]})
            assert put.status_code == 200, put.text
            after = (await gql.data(query))["product"]["stock"]
            by_warehouse = {s["warehouse"]["id"]: s for s in after}
            assert by_warehouse["Stores - AC"]["reorderLevel"] == high
            assert by_warehouse["Stores - AC"]["belowReorderLevel"] is True
            others = [s for w, s in by_warehouse.items() if w != "Stores - AC"]
            assert all(s["reorderLevel"] is None for s in others)  # their rows were replaced
            twice = await api.put(
                "/api/resource/Item/SKU-00001",
                json={"reorder_levels": [row, row]},
            )
            assert twice.status_code == 417  # ERPNext: one row per warehouse
            assert "already exists for this warehouse" in twice.text
        finally:
            restored = await api.put(
                "/api/resource/Item/SKU-00001",
                json={"reorder_levels": original},
            )
            assert restored.status_code == 200, restored.text


async def test_reorder_levels_are_read_under_stock_read_only(client_for: ClientFor) -> None:
    query = '{ product(sku: "SKU-00001") { sku stock { reorderLevel belowReorderLevel } } }'
    for role in ("logistics", "analyst", "sales", "data_steward"):
        data = await client_for(role).data(query)
        assert data["product"]["stock"], role
    body = await client_for("partner", partner_id="DHL").query(query)
    assert "Cannot query field 'stock'" in json.dumps(body["errors"])
