"""Hostile input gets Zoho's error envelope, never a 500."""

from __future__ import annotations

import httpx
import pytest

from backends.zoho.store import ZohoStore
from tests.support.zoho_emulation import seed_accounts

# Python's float() takes each of these; Zoho's criteria parser does not.
NOT_NUMBERS = [
    "nan",  # would match nothing and hide a connector sending NaN
    "inf",  # likewise infinite
    "1e400",  # overflows to infinity
    "1_000",  # Python digit grouping, not a decimal literal
]


@pytest.mark.parametrize("value", NOT_NUMBERS)
async def test_a_number_criterion_must_be_a_finite_decimal(
    client: httpx.AsyncClient, value: str
) -> None:
    reply = await client.get(
        "/crm/v8/Accounts/search", params={"criteria": f"(Credit_Limit:equals:{value})"}
    )
    assert reply.status_code == 400
    assert reply.json()["code"] == "INVALID_QUERY"
    assert reply.json()["details"] == {"api_name": "Credit_Limit"}


async def test_decimal_number_criteria_still_match(
    client: httpx.AsyncClient, store: ZohoStore
) -> None:
    [rich] = store.insert("Accounts", [{"Account_Name": "Rich", "Credit_Limit": 1500.5}])
    reply = await client.get(
        "/crm/v8/Accounts/search", params={"criteria": "(Credit_Limit:greater_than:1.5e3)"}
    )
    assert [r["id"] for r in reply.json()["data"]] == [rich]


async def test_a_body_nested_too_deep_to_parse_is_invalid_data(
    client: httpx.AsyncClient, store: ZohoStore
) -> None:
    seed_accounts(store, 1)
    reply = await client.post("/crm/v8/Accounts", content="[" * 5000 + "]" * 5000)
    assert reply.status_code == 400
    assert reply.json()["code"] == "INVALID_DATA"
    assert reply.json()["message"] == "the request body is not valid JSON"
