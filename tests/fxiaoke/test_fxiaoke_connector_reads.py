"""The connector's reads against the emulation: batching, paging, canonical formats."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from backends.fxiaoke.app import FxiaokeEmulator
from backends.fxiaoke.store import FxStore
from resolvers.fxiaoke import FxiaokeCRM
from resolvers.records import OrderStatus

QUERY = "POST /cgi/crm/v2/data/query"


def _ids(store: FxStore, api_name: str) -> list[str]:
    return [r["_id"] for r in store.select(api_name, "1", (), "_id", -1, 0)]


async def test_accounts_come_in_canonical_form(crm: FxiaokeCRM, store: FxStore) -> None:
    account_id = _ids(store, "AccountObj")[0]
    customer = (await crm.get_accounts([account_id]))[account_id]
    raw = store.get("AccountObj", [account_id])[account_id]
    assert customer.name == raw["name"]
    assert customer.created_at.tzinfo is UTC
    assert int(customer.created_at.timestamp() * 1000) == raw["create_time"]
    assert customer.credit_limit is not None
    assert customer.credit_limit.amount == Decimal(raw["field_credit_limit__c"])
    assert customer.billing_address is not None
    assert len(customer.billing_address.country or "") == 2  # an ISO code, not "Germany"
    assert customer.email is not None


async def test_orders_carry_lines_with_skus_and_money_from_strings(
    crm: FxiaokeCRM, store: FxStore
) -> None:
    order_id = _ids(store, "SalesOrderObj")[0]
    order = (await crm.get_orders([order_id]))[order_id]
    raw = store.get("SalesOrderObj", [order_id])[order_id]
    assert order.number == raw["name"]
    assert order.status is OrderStatus.CANCELLED  # the seed's oldest order
    assert order.total.amount == Decimal(raw["order_amount"])
    assert order.lines
    assert all(line.sku.startswith("SKU-") for line in order.lines)
    assert sum(line.total.amount for line in order.lines) == order.subtotal.amount


async def test_many_orders_cost_the_same_few_calls(
    crm: FxiaokeCRM, store: FxStore, emulator: FxiaokeEmulator
) -> None:
    ids = _ids(store, "SalesOrderObj")
    await crm.get_orders(ids[:1])  # the describe and the token, once per connector
    emulator.stats.reset()
    await crm.get_orders(ids[:10])
    ten = emulator.stats.total
    emulator.stats.reset()
    await crm.get_orders(ids[:30])
    # orders, lines (pages of 100 lines), products: the lines of 30 orders take one page more
    assert ten == 3
    assert emulator.stats.total <= ten + 1


async def test_a_batch_of_150_ids_is_two_in_filters(
    crm: FxiaokeCRM, store: FxStore, emulator: FxiaokeEmulator
) -> None:
    ids = _ids(store, "SalesOrderObj")  # 100 in this seed, so pad with ids that do not exist
    wanted = [*ids, *(f"{n:024x}" for n in range(50))]
    emulator.stats.reset()
    found = await crm.get_products(wanted)
    assert found == {}
    assert emulator.stats.routes[QUERY] == 2  # 100 + 50 ids: two IN filters, short pages


async def test_listing_pages_newest_first_and_ends(crm: FxiaokeCRM, store: FxStore) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = await crm.list_orders(first=40, after=cursor)
        seen += [o.id for o in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(reversed(_ids(store, "SalesOrderObj")))


async def test_filters_by_status_and_customer(crm: FxiaokeCRM, store: FxStore) -> None:
    page = await crm.list_orders(first=100, after=None, status=OrderStatus.APPROVED)
    assert page.items
    assert {o.status for o in page.items} == {OrderStatus.APPROVED}
    customer = page.items[0].customer_id
    assert customer is not None
    mine = await crm.list_orders(first=100, after=None, customer_id=customer)
    assert {o.customer_id for o in mine.items} == {customer}
    by_account = await crm.orders_by_accounts([customer])
    assert {o.id for o in by_account[customer]} == {o.id for o in mine.items}


async def test_find_order_by_number_and_external_ref(crm: FxiaokeCRM) -> None:
    by_number = await crm.find_order(number="SO-000002")
    assert by_number is not None
    assert by_number.external_ref is not None
    by_ref = await crm.find_order(external_ref=by_number.external_ref)
    assert by_ref == by_number
    assert await crm.find_order(external_ref="no-such-ref") is None


async def test_products_by_sku_and_the_unmatched_one(crm: FxiaokeCRM) -> None:
    found = await crm.products_by_sku(["SKU-00001", "SKU-00999", "SKU-77777"])
    assert set(found) == {"SKU-00001", "SKU-00999"}
    assert found["SKU-00001"].list_price is not None


async def test_deep_paging_past_10000_never_sends_an_offset(
    crm: FxiaokeCRM, store: FxStore, emulator: FxiaokeEmulator
) -> None:
    store.insert(
        "ProductObj",
        [{"name": f"Bulk {n}", "product_code": f"BULK-{n:06d}"} for n in range(10_150)],
    )
    rows = await crm.wire.query_all("ProductObj", [], projection=["_id"])
    assert len(rows) == store.count_where("ProductObj", "1", ())
    assert len({r["_id"] for r in rows}) == len(rows)
