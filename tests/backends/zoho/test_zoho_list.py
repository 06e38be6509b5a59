from __future__ import annotations

import re

import httpx
import pytest

from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from tests.support.zoho_emulation import BASE_URL, account, seed_accounts, token_for

INFO_KEYS = {
    "per_page",
    "count",
    "page",
    "more_records",
    "sort_by",
    "sort_order",
    "next_page_token",
    "previous_page_token",
    "page_token_expiry",
    "call",
    "email",
}


async def test_an_empty_list_is_http_204_with_no_body(client: httpx.AsyncClient) -> None:
    reply = await client.get("/crm/v8/Accounts", params={"fields": "Account_Name"})
    assert reply.status_code == 204
    assert reply.content == b""


async def test_fields_is_required_when_listing(client: httpx.AsyncClient) -> None:
    reply = await client.get("/crm/v8/Accounts")
    assert reply.status_code == 400
    assert reply.json()["code"] == "REQUIRED_PARAM_MISSING"
    assert reply.json()["details"] == {"param_name": "fields"}


async def test_more_than_50_fields_is_limit_exceeded(client: httpx.AsyncClient) -> None:
    reply = await client.get("/crm/v8/Accounts", params={"fields": ",".join(["Phone"] * 51)})
    assert reply.status_code == 400
    assert reply.json()["code"] == "LIMIT_EXCEEDED"
    assert reply.json()["details"]["limit"] == 50


async def test_an_unknown_field_name_is_invalid_data(client: httpx.AsyncClient) -> None:
    reply = await client.get("/crm/v8/Accounts", params={"fields": "Account_Name,Nope"})
    assert reply.status_code == 400
    assert reply.json()["details"]["api_name"] == "Nope"


async def test_per_page_above_200_is_refused(client: httpx.AsyncClient) -> None:
    reply = await client.get("/crm/v8/Accounts", params={"fields": "id", "per_page": "201"})
    assert reply.status_code == 400
    assert reply.json()["code"] == "LIMIT_EXCEEDED"


async def test_a_page_has_the_requested_fields_and_the_full_info_block(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    seed_accounts(store, 3)
    reply = await client.get("/crm/v8/Accounts", params={"fields": "Account_Name,Billing_Country"})
    body = reply.json()
    assert set(body["data"][0]) == {"id", "Account_Name", "Billing_Country"}
    assert set(body["info"]) == INFO_KEYS
    assert body["info"]["count"] == 3
    assert body["info"]["more_records"] is False
    assert body["info"]["next_page_token"] is None


async def test_paging_past_200_rows_follows_next_page_token_to_the_end(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    seeded = set(seed_accounts(store, 450))
    seen: list[str] = []
    params = {"fields": "Account_Name"}
    while True:
        body = (await client.get("/crm/v8/Accounts", params=params)).json()
        seen += [row["id"] for row in body["data"]]
        if not body["info"]["more_records"]:
            break
        params = {"fields": "Account_Name", "page_token": body["info"]["next_page_token"]}
    assert len(seen) == 450
    assert set(seen) == seeded
    assert seen == sorted(seen, reverse=True)  # default sort: id desc


async def test_pages_beyond_2000_rows_need_a_page_token(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    seed_accounts(store, 2001)
    last_discrete = await client.get("/crm/v8/Accounts", params={"fields": "id", "page": "10"})
    beyond = await client.get("/crm/v8/Accounts", params={"fields": "id", "page": "11"})
    assert last_discrete.status_code == 200
    assert beyond.status_code == 400
    assert beyond.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
    assert beyond.json()["details"] == {"limit": 2000}
    token = last_discrete.json()["info"]["next_page_token"]
    tail = await client.get("/crm/v8/Accounts", params={"fields": "id", "page_token": token})
    assert tail.json()["info"]["count"] == 1


async def test_an_unknown_page_token_is_invalid_data(client: httpx.AsyncClient) -> None:
    reply = await client.get("/crm/v8/Accounts", params={"fields": "id", "page_token": "forged"})
    assert reply.status_code == 400
    assert reply.json()["code"] == "INVALID_DATA"


async def test_ids_fetches_a_batch_and_more_than_100_is_refused(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    ids = seed_accounts(store, 5)
    batch = await client.get("/crm/v8/Accounts", params={"fields": "id", "ids": ",".join(ids[:2])})
    too_many = await client.get(
        "/crm/v8/Accounts", params={"fields": "id", "ids": ",".join(["1"] * 101)}
    )
    assert {row["id"] for row in batch.json()["data"]} == set(ids[:2])
    assert too_many.json()["code"] == "LIMIT_EXCEEDED"


async def test_sort_by_modified_time_ascending(store: ZohoStore, client: httpx.AsyncClient) -> None:
    store.insert(
        "Accounts",
        [
            account(
                "late",
                Created_Time="2026-03-01T10:00:00+05:30",
                Modified_Time="2026-03-03T10:00:00+05:30",
            ),
            account(
                "early",
                Created_Time="2026-03-01T10:00:00+05:30",
                Modified_Time="2026-03-02T10:00:00+05:30",
            ),
        ],
    )
    params = {"fields": "Account_Name", "sort_by": "Modified_Time", "sort_order": "asc"}
    body = (await client.get("/crm/v8/Accounts", params=params)).json()
    assert [row["Account_Name"] for row in body["data"]] == ["early", "late"]
    assert body["info"]["sort_by"] == "Modified_Time"


async def test_sort_by_an_unsupported_field_is_refused(client: httpx.AsyncClient) -> None:
    params = {"fields": "id", "sort_by": "Account_Name"}
    assert (await client.get("/crm/v8/Accounts", params=params)).status_code == 400


async def test_if_modified_since_returns_only_newer_rows_and_304_when_none(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    store.insert(
        "Accounts",
        [
            account(
                "old",
                Created_Time="2026-03-01T10:00:00+05:30",
                Modified_Time="2026-03-01T10:00:00+05:30",
            ),
            account(
                "new",
                Created_Time="2026-03-01T10:00:00+05:30",
                Modified_Time="2026-03-05T10:00:00+05:30",
            ),
        ],
    )
    since = {"If-Modified-Since": "2026-03-02T00:00:00+05:30"}
    newer = await client.get("/crm/v8/Accounts", params={"fields": "Account_Name"}, headers=since)
    later = {"If-Modified-Since": "2026-04-01T00:00:00+00:00"}
    none = await client.get("/crm/v8/Accounts", params={"fields": "Account_Name"}, headers=later)
    assert [row["Account_Name"] for row in newer.json()["data"]] == ["new"]
    assert none.status_code == 304


async def test_get_by_id_is_an_array_of_one_and_unknown_ids_are_204(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    [account_id] = store.insert("Accounts", [account("Acme", Credit_Limit=5000)])
    found = await client.get(f"/crm/v8/Accounts/{account_id}")
    missing = await client.get("/crm/v8/Accounts/1234567890123456789")
    [record] = found.json()["data"]
    assert record["Account_Name"] == "Acme"
    assert record["Credit_Limit"] == 5000
    assert missing.status_code == 204
    assert missing.content == b""


async def test_records_carry_19_digit_ids_offset_datetimes_and_an_owner(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    [account_id] = seed_accounts(store, 1)
    [record] = (await client.get(f"/crm/v8/Accounts/{account_id}")).json()["data"]
    assert re.fullmatch(r"\d{19}", record["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30", record["Created_Time"])
    assert set(record["Owner"]) == {"name", "id", "email"}


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/crm/v8/Leads?fields=id", 400, "INVALID_MODULE"),  # a module we do not emulate
        ("GET", "/crm/v8/Accounts/1/2/3", 404, "INVALID_URL_PATTERN"),  # no such route
        ("GET", "/crm/v8/Accounts/not-an-id", 404, "INVALID_URL_PATTERN"),
        ("PATCH", "/crm/v8/Accounts", 405, "INVALID_REQUEST_METHOD"),
        ("POST", "/crm/v8/Accounts/search", 405, "INVALID_REQUEST_METHOD"),
        ("PUT", "/crm/v8/Accounts/upsert", 405, "INVALID_REQUEST_METHOD"),
    ],
)
async def test_bad_paths_and_methods_get_zohos_envelope(
    client: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    reply = await client.request(method, path)
    assert reply.status_code == status
    assert reply.json()["code"] == code
    assert reply.json()["status"] == "error"


async def test_datetimes_use_the_tenant_time_zone_from_settings(store: ZohoStore) -> None:
    emulator = ZohoEmulator(store, ZohoSettings(tz="America/New_York"))
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        client.headers["Authorization"] = f"Zoho-oauthtoken {await token_for(client)}"
        reply = await client.post("/crm/v8/Accounts", json={"data": [{"Account_Name": "NY"}]})
    created = reply.json()["data"][0]["details"]["Created_Time"]
    assert created.endswith(("-05:00", "-04:00"))


async def test_fields_made_only_of_commas_counts_as_missing(client: httpx.AsyncClient) -> None:
    reply = await client.get("/crm/v8/Accounts", params={"fields": ",,,"})
    assert reply.json()["code"] == "REQUIRED_PARAM_MISSING"


async def test_seeded_datetimes_are_shown_in_the_tenant_zone(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    [a] = store.insert("Accounts", [account("UTC", Created_Time="2026-03-01T04:30:00+00:00")])
    [record] = (await client.get(f"/crm/v8/Accounts/{a}")).json()["data"]
    assert record["Created_Time"] == "2026-03-01T10:00:00+05:30"
