"""Helpers for the tests under tests/backends/erpnext/ (fixtures: its conftest.py)."""

from __future__ import annotations

import json
from typing import Any

from backends.erpnext.store import ErpStore

AUTH = {"Authorization": "token crossdock-demo:crossdock-demo-secret"}


def seed(store: ErpStore) -> None:
    store.insert(
        "Company", [{"company_name": "Acme Corp", "abbr": "AC", "default_currency": "USD"}]
    )
    store.insert("Warehouse", [
        {"warehouse_name": "All Warehouses", "company": "Acme Corp", "is_group": 1},
        {"warehouse_name": "Stores", "company": "Acme Corp",
         "parent_warehouse": "All Warehouses - AC"},
        {"warehouse_name": "Finished Goods", "company": "Acme Corp",
         "parent_warehouse": "All Warehouses - AC"},
    ])  # fmt: skip
    store.insert("Item", [
        {"item_code": "WIDGET-1", "item_name": "Widget", "item_group": "Products",
         "valuation_rate": 4.5, "standard_rate": 10.0},
        {"item_code": "GADGET-2", "item_name": "Gadget", "item_group": "Products"},
        {"item_code": "SERVICE", "item_name": "Setup service", "item_group": "Services",
         "is_stock_item": 0},
    ])  # fmt: skip
    store.insert("Bin", [
        {"item_code": "WIDGET-1", "warehouse": "Stores - AC", "actual_qty": 100.0,
         "projected_qty": 100.0},
        {"item_code": "GADGET-2", "warehouse": "Stores - AC", "actual_qty": 3.0,
         "projected_qty": 3.0},
    ])  # fmt: skip
    store.insert("Customer", [
        {"customer_name": "Globex", "custom_crm_account_id": "5725767000000001"},
        {"customer_name": "Initech", "custom_crm_account_id": "5725767000000002"},
    ])  # fmt: skip
    store.insert("Address", [
        {"address_title": "Globex", "address_type": "Shipping", "address_line1": "1 Main St",
         "city": "Berlin", "country": "Germany", "links": [
             {"link_doctype": "Customer", "link_name": "Globex"}]},
        {"address_title": "Acme Corp", "address_line1": "9 Dock Rd", "city": "Hamburg",
         "country": "Germany"},
    ])  # fmt: skip


def q(**params: Any) -> dict[str, str]:
    """Query params with JSON values encoded the way Frappe clients send them."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}


def messages(body: dict[str, Any]) -> list[str]:
    """Decode Frappe's doubly encoded `_server_messages`."""
    outer = json.loads(body["_server_messages"])
    assert all(isinstance(m, str) for m in outer)
    return [json.loads(m)["message"] for m in outer]


def sales_order(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "customer": "Globex",
        "transaction_date": "2026-03-01",
        "delivery_date": "2026-03-10",
        "custom_crm_order_id": "5725767000000100",
        "items": [{"item_code": "WIDGET-1", "qty": 10, "rate": 10.0, "warehouse": "Stores - AC"}],
    }
    doc.update(overrides)
    return doc
