"""ZohoCRM reads against the emulated Zoho CRM: canonical records, batching, paging, filters."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from backends.zoho.app import ZohoEmulator
from backends.zoho.store import ZohoStore
from resolvers.cursors import encode_cursor
from resolvers.errors import BackendRejected, InvalidInput
from resolvers.records import Address, Money, OrderStatus
from resolvers.zoho import ZohoCRM
from tests.support.connectors import (
    RecordingTransport,
    account,
    contact,
    order,
    product,
    zoho_id,
)


def calls(emulator: ZohoEmulator, route: str) -> int:
    return int(emulator.stats.snapshot()["routes"].get(route, 0))


async def test_an_account_comes_back_in_utc_with_an_iso_country_and_its_primary_email(
    crm: ZohoCRM, zoho_store: ZohoStore
) -> None:
    zoho_store.insert(
        "Accounts",
        [account(1, Billing_Country="Germany", Billing_City="Berlin", Credit_Limit=1500.5,
                 Currency="EUR", Shipping_Country="United States")],
    )  # fmt: skip
    zoho_store.insert(
        "Contacts",
        [
            contact(1, 1, "later@example.com", "2026-01-03T10:00:00+05:30"),
            contact(2, 1, "first@example.com", "2026-01-02T10:00:00+05:30"),  # earliest wins
        ],
    )

    customer = (await crm.get_accounts([zoho_id(1)]))[zoho_id(1)]

    assert customer.created_at == datetime(2026, 1, 5, 4, 30, tzinfo=UTC)  # from +05:30
    assert customer.billing_address == Address(city="Berlin", country="DE")
    assert customer.shipping_address == Address(country="US")
    assert customer.email == "first@example.com"
    assert customer.credit_limit == Money(Decimal("1500.5"), "EUR")


async def test_250_account_ids_cost_three_accounts_calls_and_three_contact_searches(
    crm: ZohoCRM, zoho_store: ZohoStore, zoho_emulator: ZohoEmulator
) -> None:
    zoho_store.insert("Accounts", [account(n) for n in range(1, 251)])

    customers = await crm.get_accounts([zoho_id(n) for n in range(1, 251)] + [zoho_id(7)])

    assert len(customers) == 250
    assert calls(zoho_emulator, "GET /crm/v8/Accounts") == 3
    assert calls(zoho_emulator, "GET /crm/v8/Contacts/search") == 3


async def test_unknown_and_malformed_account_ids_are_simply_absent(
    crm: ZohoCRM, zoho_store: ZohoStore, zoho_emulator: ZohoEmulator
) -> None:
    zoho_store.insert("Accounts", [account(1)])

    found = await crm.get_accounts([zoho_id(1), zoho_id(999), "not-an-id", "1) or (x"])
    alone = await crm.get_accounts([zoho_id(999)])

    assert list(found) == [zoho_id(1)]
    assert alone == {}


async def test_walking_every_order_page_gives_the_full_listing_once(
    crm: ZohoCRM, zoho_store: ZohoStore
) -> None:
    zoho_store.insert("Accounts", [account(1)])
    zoho_store.insert("Products", [product(1, "SKU-1")])
    zoho_store.insert("Sales_Orders", [order(n, 1) for n in range(1, 46)])

    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await crm.list_orders(first=10, after=cursor)
        seen += [o.id for o in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    everything = await crm.list_orders(first=200, after=None)
    assert seen == [o.id for o in everything.items]
    assert len(set(seen)) == 45


async def walk_products(crm: ZohoCRM, *, first: int) -> list[str]:
    """Every product id, page after page of `first`, as a client pages a connection."""
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await crm.list_products(first=first, after=cursor)
        seen += [p.id for p in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen


async def test_listing_past_2000_rows_switches_to_zoho_page_tokens(
    crm: ZohoCRM, zoho_store: ZohoStore, zoho_wire: RecordingTransport
) -> None:
    zoho_store.insert("Products", [product(n, f"SKU-{n}") for n in range(1, 2051)])

    seen = await walk_products(crm, first=200)

    assert len(seen) == len(set(seen)) == 2050
    sent = zoho_wire.params("/crm/v8/Products")
    assert "page_token" in sent[-1]
    assert "page" not in sent[-1]
    assert all("fields" in p and int(p["per_page"]) <= 200 for p in sent)


async def test_a_page_size_that_does_not_divide_2000_walks_past_2000_rows_without_a_400(
    crm: ZohoCRM, zoho_store: ZohoStore, zoho_wire: RecordingTransport
) -> None:
    # pages of 150 end at 1,950 then 2,100: `page` must stop at 2,000 (a 400 past it, §A.4)
    zoho_store.insert("Products", [product(n, f"SKU-{n}") for n in range(1, 2051)])

    seen = await walk_products(crm, first=150)

    assert len(seen) == len(set(seen)) == 2050
    sent = zoho_wire.params("/crm/v8/Products")
    paged = [p for p in sent if "page" in p]
    assert all(int(p["page"]) * int(p["per_page"]) <= 2000 for p in paged)
    assert "page_token" in sent[-1]


async def test_status_and_customer_filters_are_pushed_down_as_search_criteria(
    crm: ZohoCRM, zoho_store: ZohoStore, zoho_wire: RecordingTransport, zoho_emulator: ZohoEmulator
) -> None:
    zoho_store.insert("Accounts", [account(1), account(2)])
    zoho_store.insert("Products", [product(1, "SKU-1")])
    zoho_store.insert(
        "Sales_Orders",
        [order(1, 1, "Approved"), order(2, 1, "Created"), order(3, 2, "Approved")],
    )

    page = await crm.list_orders(
        first=20, after=None, status=OrderStatus.APPROVED, customer_id=zoho_id(1)
    )

    assert [o.id for o in page.items] == [zoho_id(200_001)]
    assert calls(zoho_emulator, "GET /crm/v8/Sales_Orders") == 0
    criteria = zoho_wire.params("/Sales_Orders/search")[0]["criteria"]
    assert criteria == f"((Status:equals:Approved)and(Account_Name:equals:{zoho_id(1)}))"


async def test_modified_since_is_pushed_down_in_utc(
    crm: ZohoCRM, zoho_store: ZohoStore, zoho_wire: RecordingTransport
) -> None:
    zoho_store.insert(
        "Accounts", [account(1, Modified_Time="2026-05-01T10:00:00+00:00"), account(2)]
    )

    since = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    page = await crm.list_accounts(first=20, after=None, modified_since=since)

    assert [c.id for c in page.items] == [zoho_id(1)]
    criteria = zoho_wire.params("/Accounts/search")[0]["criteria"]
    assert criteria == "(Modified_Time:greater_equal:2026-04-01T02:00:00+00:00)"


async def test_a_search_page_beyond_2000_rows_is_refused_with_a_precise_error(
    crm: ZohoCRM,
) -> None:
    cursor = encode_cursor({"k": "zoho:Sales_Orders:search", "o": 2000})

    with pytest.raises(BackendRejected, match="stops at 2,000 rows"):
        await crm.list_orders(first=20, after=cursor, status=OrderStatus.CREATED)


async def test_a_cursor_from_another_listing_or_garbage_is_invalid_input(crm: ZohoCRM) -> None:
    with pytest.raises(InvalidInput):
        await crm.list_orders(first=20, after="%%%")
    with pytest.raises(InvalidInput):
        await crm.list_orders(first=20, after=encode_cursor({"k": "zoho:Products:list", "o": 0}))


async def test_products_by_sku_keeps_exact_codes_because_zoho_search_is_fuzzy(
    crm: ZohoCRM, zoho_store: ZohoStore
) -> None:
    zoho_store.insert("Products", [product(1, "SKU-1", 10.5), product(2, "SKU-10")])

    found = await crm.products_by_sku(["SKU-1"])

    assert list(found) == ["SKU-1"]
    assert found["SKU-1"].list_price == Money(Decimal("10.5"), "EUR")


async def test_order_lines_accept_every_price_and_quantity_spelling(
    crm: ZohoCRM, zoho_store: ZohoStore
) -> None:
    lookup = {"id": zoho_id(90_001), "name": "P", "Product_Code": "SKU-1"}
    rows = [
        {"Product_Name": lookup, "Quantity": 1, "List_Price": 1.1},  # cdata v8
        {"Product_Name": lookup, "Quantity": 2, "ListPrice": 2.2},  # SDK sample
        {"Product_Name": lookup, "quantity": 3, "list_price": 3.3},  # crm-oas example
    ]
    zoho_store.insert("Sales_Orders", [order(1, 1, Ordered_Items=rows)])

    found = (await crm.get_orders([zoho_id(200_001)]))[zoho_id(200_001)]

    assert [(line.quantity, line.unit_price.amount) for line in found.lines] == [
        (Decimal(1), Decimal("1.1")),
        (Decimal(2), Decimal("2.2")),
        (Decimal(3), Decimal("3.3")),
    ]
    assert found.total == Money(Decimal("47.58"), "EUR")
    assert found.placed_at == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # from -07:00


async def test_line_skus_missing_from_the_lookup_are_resolved_in_one_products_call(
    crm: ZohoCRM, zoho_store: ZohoStore, zoho_emulator: ZohoEmulator
) -> None:
    zoho_store.insert("Products", [product(1, "SKU-1")])
    zoho_store.insert("Sales_Orders", [order(n, 1) for n in range(1, 31)])

    orders = await crm.get_orders([zoho_id(200_000 + n) for n in range(1, 31)])

    assert {line.sku for o in orders.values() for line in o.lines} == {"SKU-1"}
    products = calls(zoho_emulator, "GET /crm/v8/Products") + calls(
        zoho_emulator, "GET /crm/v8/Products/{id}"
    )
    assert products == 1


async def test_orders_by_accounts_groups_one_search_per_hundred_accounts(
    crm: ZohoCRM, zoho_store: ZohoStore, zoho_emulator: ZohoEmulator
) -> None:
    zoho_store.insert("Products", [product(1, "SKU-1")])
    zoho_store.insert("Sales_Orders", [order(n, n % 150 + 1) for n in range(1, 301)])

    grouped = await crm.orders_by_accounts([zoho_id(n) for n in range(1, 151)])

    assert sum(len(v) for v in grouped.values()) == 300
    assert all(o.customer_id == account_id for account_id, v in grouped.items() for o in v)
    assert calls(zoho_emulator, "GET /crm/v8/Sales_Orders/search") == 2


async def test_find_order_by_number_ignores_fuzzy_near_matches(
    crm: ZohoCRM, zoho_store: ZohoStore
) -> None:
    zoho_store.insert("Sales_Orders", [order(1, 1), order(11, 1)])

    found = await crm.find_order(number="SO-000011")
    missing = await crm.find_order(number="SO-0000")

    assert found is not None
    assert found.id == zoho_id(200_011)
    assert missing is None


async def test_an_unmapped_status_picklist_value_is_a_precise_backend_error(
    crm: ZohoCRM, zoho_store: ZohoStore
) -> None:
    zoho_store.insert("Sales_Orders", [order(1, 1, "On Hold")])

    with pytest.raises(BackendRejected, match=r"crm\.order_statuses"):
        await crm.get_orders([zoho_id(200_001)])
