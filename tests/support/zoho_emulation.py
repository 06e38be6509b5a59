"""Helpers for the tests under tests/backends/zoho/ (fixtures: its conftest.py)."""

from __future__ import annotations

from typing import Any

import httpx

from backends.zoho.app import ZohoSettings
from backends.zoho.store import ZohoStore

BASE_URL = "http://zoho.test"


async def token_for(client: httpx.AsyncClient, settings: ZohoSettings | None = None) -> str:
    settings = settings or ZohoSettings()
    reply = await client.post(
        "/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": settings.client_id,
            "client_secret": settings.client_secret,
            "refresh_token": settings.refresh_token,
        },
    )
    token = reply.json()["access_token"]
    assert isinstance(token, str)
    return token


def account(name: str, **extra: Any) -> dict[str, Any]:
    return {"Account_Name": name, "Billing_Country": "Germany", "Currency": "EUR", **extra}


def seed_accounts(store: ZohoStore, count: int) -> list[str]:
    return store.insert("Accounts", [account(f"Account {i:05d}") for i in range(count)])


def seed_products(store: ZohoStore) -> list[str]:
    return store.insert(
        "Products",
        [
            {
                "Product_Name": "Widget",
                "Product_Code": "SKU-1",
                "Unit_Price": 10.5,
                "Product_Active": True,
            },
            {
                "Product_Name": "Gadget",
                "Product_Code": "SKU-2",
                "Unit_Price": 99,
                "Product_Active": False,
            },
        ],
    )
