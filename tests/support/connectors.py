"""Helpers for the tests under tests/resolvers/ (fixtures: its conftest.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from resolvers.erpnext import ERPNextOptions
from resolvers.http import RetryPolicy
from resolvers.zoho import ZohoOptions

ZOHO_URL = "http://zoho.test"


ERP_URL = "http://erp.test"


class SleepSpy:
    """An injected sleep that records the delays asked for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def zoho_id(n: int) -> str:
    return str(4150868000000000000 + n)


def account(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": zoho_id(n),
        "Account_Name": f"Account {n:04d}",
        "Created_Time": "2026-01-05T10:00:00+05:30",
        "Modified_Time": "2026-02-01T12:30:00+05:30",
        **extra,
    }


def contact(n: int, account_n: int, email: str, created: str) -> dict[str, Any]:
    return {
        "id": zoho_id(50_000 + n),
        "Last_Name": f"Contact {n}",
        "Email": email,
        "Account_Name": {"id": zoho_id(account_n), "name": f"Account {account_n:04d}"},
        "Created_Time": created,
        "Modified_Time": created,
    }


def product(n: int, sku: str, price: float = 10.0) -> dict[str, Any]:
    return {
        "id": zoho_id(90_000 + n),
        "Product_Name": f"Product {sku}",
        "Product_Code": sku,
        "Product_Active": True,
        "Unit_Price": price,
        "Usage_Unit": "Nos",
        "Currency": "EUR",
        "Modified_Time": "2026-01-01T00:00:00+01:00",
    }


def order(n: int, account_n: int, status: str = "Created", **extra: Any) -> dict[str, Any]:
    return {
        "id": zoho_id(200_000 + n),
        "Subject": f"Order {n}",
        "SO_Number": f"SO-{n:06d}",
        "Status": status,
        "Account_Name": {"id": zoho_id(account_n), "name": f"Account {account_n:04d}"},
        "Currency": "EUR",
        "Ordered_Items": [
            {
                "id": zoho_id(300_000 + n),
                "Product_Name": {"id": zoho_id(90_001), "name": "Product SKU-1"},
                "Quantity": 2,
                "List_Price": 19.99,
                "Total": 39.98,
            }
        ],
        "Sub_Total": 39.98,
        "Tax": 7.6,
        "Grand_Total": 47.58,
        "Created_Time": "2026-03-01T09:00:00-07:00",
        "Modified_Time": "2026-03-02T09:00:00-07:00",
        **extra,
    }


class RecordingTransport(httpx.AsyncBaseTransport):
    """A spy around the real in-process transport: keeps every request it forwards."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def params(self, path_suffix: str) -> list[httpx.QueryParams]:
        return [r.url.params for r in self.requests if r.url.path.endswith(path_suffix)]


def zoho_options(**overrides: Any) -> ZohoOptions:
    values: dict[str, Any] = {
        "accounts_url": ZOHO_URL,
        "client_id": "crossdock-demo",
        "client_secret": "crossdock-demo-secret",
        "refresh_token": "crossdock-demo-refresh",
        "retry": RetryPolicy(attempts=3, backoff_s=0.01),
        **overrides,
    }
    return ZohoOptions(**values)


# The emulation's clock here: Frappe checks dates against "today"; no test reads the calendar.
ERP_TODAY = datetime(2026, 3, 1, 10, 0)


def erp_item(sku: str, rate: float = 7.25) -> dict[str, Any]:
    return {
        "item_code": sku,
        "name": sku,
        "item_name": f"Item {sku}",
        "item_group": "Products",
        "stock_uom": "Nos",
        "is_stock_item": 1,
        "disabled": 0,
        "valuation_rate": rate,
        "modified": "2026-06-27 10:00:00.000000",
    }


def erp_bin(sku: str, warehouse: str, actual: float) -> dict[str, Any]:
    return {"item_code": sku, "warehouse": warehouse, "actual_qty": actual, "stock_uom": "Nos"}


def erp_options(**overrides: Any) -> ERPNextOptions:
    values: dict[str, Any] = {
        "base_url": ERP_URL,
        "api_key": "crossdock-demo",
        "api_secret": "crossdock-demo-secret",
        "retry": RetryPolicy(attempts=3, backoff_s=0.01),
        **overrides,
    }
    return ERPNextOptions(**values)
