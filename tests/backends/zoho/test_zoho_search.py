from __future__ import annotations

from typing import Any

import httpx
import pytest

from backends.zoho.store import ZohoStore
from tests.support.zoho_emulation import account, seed_accounts


def _names(reply: httpx.Response, field: str = "Account_Name") -> list[str]:
    assert reply.status_code == 200, reply.text
    return sorted(row[field] for row in reply.json()["data"])


async def search(
    client: httpx.AsyncClient, module: str = "Accounts", **params: Any
) -> httpx.Response:
    return await client.get(f"/crm/v8/{module}/search", params=params)


async def test_equals_on_a_text_field_is_a_case_insensitive_contains(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    store.insert("Accounts", [account("ABC Inc."), account("xabcx"), account("Other")])
    assert _names(await search(client, criteria="(Account_Name:equals:abc)")) == [
        "ABC Inc.",
        "xabcx",
    ]


async def test_equals_on_a_picklist_is_exact(store: ZohoStore, client: httpx.AsyncClient) -> None:
    [acme] = store.insert("Accounts", [account("Acme")])
    store.insert(
        "Sales_Orders",
        [
            {"Subject": "a", "Status": "Approved", "Account_Name": {"id": acme, "name": "Acme"}},
            {
                "Subject": "b",
                "Status": "Pending Approval",
                "Account_Name": {"id": acme, "name": "Acme"},
            },
        ],
    )
    reply = await search(client, "Sales_Orders", criteria="(Status:equals:Approved)")
    partial = await search(client, "Sales_Orders", criteria="(Status:equals:Approv)")
    assert _names(reply, "Subject") == ["a"]
    assert partial.status_code == 204


async def test_lookups_are_matched_by_id_with_equals_and_in(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    a, b, c = seed_accounts(store, 3)
    store.insert(
        "Sales_Orders",
        [{"Subject": f"order of {i}", "Account_Name": {"id": i, "name": "x"}} for i in (a, b, c)],
    )
    one = await search(client, "Sales_Orders", criteria=f"(Account_Name:equals:{a})")
    two = await search(client, "Sales_Orders", criteria=f"(Account_Name:in:{a},{b})")
    assert _names(one, "Subject") == [f"order of {a}"]
    assert _names(two, "Subject") == sorted([f"order of {a}", f"order of {b}"])


async def test_and_or_and_numeric_comparisons_combine(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    store.insert(
        "Accounts",
        [
            account("Small", Credit_Limit=100, Industry="Retail"),
            account("Big", Credit_Limit=9000, Industry="Retail"),
            account("Bank", Credit_Limit=50, Industry="Finance"),
        ],
    )
    criteria = "((Credit_Limit:greater_than:500)or(Industry:equals:Finance))"
    between = "(Credit_Limit:between:60,200)"
    assert _names(await search(client, criteria=criteria)) == ["Bank", "Big"]
    assert _names(await search(client, criteria=between)) == ["Small"]


async def test_modified_time_greater_than_supports_incremental_sync(
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
                Modified_Time="2026-03-01T12:00:00+05:30",
            ),
        ],
    )
    # 05:00Z is 10:30 in Kolkata: only "new" was modified after it.
    reply = await search(client, criteria="(Modified_Time:greater_than:2026-03-01T05:00:00+00:00)")
    assert _names(reply) == ["new"]


async def test_email_wins_over_word_when_both_are_sent(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    store.insert(
        "Contacts",
        [
            {"Last_Name": "Burns", "Email": "burns@example.com"},
            {"Last_Name": "Smith", "Email": "smith@example.com"},
        ],
    )
    both = await search(client, "Contacts", email="SMITH@example.com", word="Burns")
    word = await search(client, "Contacts", word="burn")
    assert _names(both, "Last_Name") == ["Smith"]
    assert _names(word, "Last_Name") == ["Burns"]


async def test_criteria_wins_over_email(store: ZohoStore, client: httpx.AsyncClient) -> None:
    store.insert(
        "Contacts",
        [
            {"Last_Name": "Burns", "Email": "burns@example.com"},
            {"Last_Name": "Smith", "Email": "smith@example.com"},
        ],
    )
    reply = await search(
        client, "Contacts", criteria="(Last_Name:equals:Burns)", email="smith@example.com"
    )
    assert _names(reply, "Last_Name") == ["Burns"]


async def test_no_hits_is_204_with_no_body(store: ZohoStore, client: httpx.AsyncClient) -> None:
    seed_accounts(store, 2)
    reply = await search(client, criteria="(Account_Name:equals:nothing-like-this)")
    assert reply.status_code == 204
    assert reply.content == b""


async def test_search_info_has_no_page_tokens(store: ZohoStore, client: httpx.AsyncClient) -> None:
    seed_accounts(store, 3)
    reply = await search(client, criteria="(Account_Name:starts_with:account)", per_page="2")
    info = reply.json()["info"]
    assert info == {
        "per_page": 2,
        "count": 2,
        "page": 1,
        "more_records": True,
        "sort_by": "id",
        "sort_order": "desc",
    }


async def test_searching_past_2000_rows_is_limit_reached(
    store: ZohoStore, client: httpx.AsyncClient
) -> None:
    seed_accounts(store, 2001)
    reply = await search(client, criteria="(Account_Name:starts_with:Account)", page="11")
    assert reply.status_code == 400
    assert reply.json()["code"] == "LIMIT_REACHED"


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"criteria": "(Account_Name:equals:x"}, "expected ')'"),  # unbalanced
        ({"criteria": "(Nope:equals:x)"}, "invalid field 'Nope'"),  # unknown field
        ({"criteria": "(Account_Name:greater_than:x)"}, "not supported for text"),
        ({"criteria": "(Credit_Limit:greater_than:lots)"}, "not a valid currency"),
        ({"criteria": "(Modified_Time:greater_than:yesterday)"}, "not a valid datetime"),
        ({"criteria": "(Account_Name:in:" + ",".join(["a"] * 101) + ")"}, "at most 100"),
        ({"word": "a"}, "at least 2"),  # word needs 2 characters
    ],
)
async def test_bad_search_input_is_400_invalid_query(
    client: httpx.AsyncClient, params: dict[str, str], fragment: str
) -> None:
    reply = await search(client, **params)
    assert reply.status_code == 400
    assert reply.json()["code"] == "INVALID_QUERY"
    assert fragment in reply.json()["message"]


async def test_search_without_criteria_email_phone_or_word_is_required_param_missing(
    client: httpx.AsyncClient,
) -> None:
    reply = await search(client)
    assert reply.json()["code"] == "REQUIRED_PARAM_MISSING"
