"""`data/query` and `search_query_info` as documented: string values, operators, paging limits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backends.fxiaoke.store import FxStore
from tests.support.fxiaoke_emulation import FxCaller, in_filter


async def _ids(fx: FxCaller, api_name: str, **info: object) -> list[str]:
    reply = await fx.query(api_name, **info)
    assert reply["errorCode"] == 0, reply
    return [r["_id"] for r in reply["data"]["dataList"]]


async def test_an_in_filter_returns_exactly_the_ids_named(fx: FxCaller) -> None:
    every = await _ids(fx, "AccountObj")
    picked = every[1:4]
    assert await _ids(fx, "AccountObj", filters=[in_filter("_id", picked)]) == picked


async def test_id_gt_pages_in_id_order(fx: FxCaller) -> None:
    every = await _ids(fx, "SalesOrderObj", orders=[{"fieldName": "_id", "isAsc": True}])
    after = await _ids(fx, "SalesOrderObj", filters=[in_filter("_id", [every[49]], "GT")])
    assert after == every[50:]


async def test_filter_values_must_be_strings_even_for_numbers(fx: FxCaller) -> None:
    numeric = {"field_name": "order_amount", "field_values": [100], "operator": "GT"}
    assert (await fx.query("SalesOrderObj", filters=[numeric]))["errorCode"] != 0


async def test_gt_on_money_compares_numbers_not_text(fx: FxCaller) -> None:
    reply = await fx.query("SalesOrderObj", filters=[in_filter("order_amount", ["999.5"], "GT")])
    amounts = [Decimal(r["order_amount"]) for r in reply["data"]["dataList"]]
    assert amounts
    assert min(amounts) > Decimal("999.5")


async def test_times_are_epoch_ms_money_is_strings_lookups_carry_r(fx: FxCaller) -> None:
    order = (await fx.query("SalesOrderObj", limit=1))["data"]["dataList"][0]
    assert isinstance(order["create_time"], int)
    assert order["create_time"] > 10**12
    assert isinstance(order["order_amount"], str)
    assert order["account_id"]
    assert order["account_id__r"]


async def test_a_limit_over_100_is_refused(fx: FxCaller) -> None:
    assert (await fx.query("AccountObj", limit=101))["errorCode"] != 0


async def test_an_offset_past_10000_gets_10013(fx: FxCaller) -> None:
    reply = await fx.query("AccountObj", limit=100, offset=10_100)
    assert reply["errorCode"] == 10013
    assert reply["errorMessage"] == "offset out of range 10000"


async def test_an_offset_of_10000_is_still_allowed(fx: FxCaller) -> None:
    reply = await fx.query("AccountObj", limit=100, offset=10_000)
    assert reply["errorCode"] == 0
    assert reply["data"]["dataList"] == []


async def test_the_projection_keeps_the_named_fields_and_their_r(fx: FxCaller) -> None:
    reply = await fx.query("SalesOrderObj", limit=1, fieldProjection=["name", "account_id"])
    assert set(reply["data"]["dataList"][0]) == {"_id", "name", "account_id", "account_id__r"}


async def test_total_is_zero_when_totals_are_off(fx: FxCaller) -> None:
    data = {
        "dataObjectApiName": "AccountObj",
        "search_query_info": {"limit": 1, "offset": 0},
        "find_explicit_total_num": False,
    }
    assert (await fx.call("/cgi/crm/v2/data/query", data))["data"]["total"] == 0


@pytest.mark.parametrize(
    ("operator", "value", "expect"),
    [
        ("EQ", "SKU-00001", {"SKU-00001"}),  # exact
        ("N", "SKU-00001", None),  # everything else
        ("STARTWITH", "SKU-0000", None),  # a prefix
        ("LIKE", "00999", {"SKU-00999"}),  # contains: the unmatched product of the seed
    ],
)
async def test_text_operators(
    fx: FxCaller, operator: str, value: str, expect: set[str] | None
) -> None:
    reply = await fx.query("ProductObj", filters=[in_filter("product_code", [value], operator)])
    codes = {r["product_code"] for r in reply["data"]["dataList"]}
    if expect is not None:
        assert codes == expect
    elif operator == "N":
        assert value not in codes
        assert codes
    else:
        assert codes
        assert all(c.startswith(value) for c in codes)


async def test_order_lines_are_details_queried_by_order_id(fx: FxCaller, store: FxStore) -> None:
    order = (await fx.query("SalesOrderObj", limit=1))["data"]["dataList"][0]
    reply = await fx.query(
        "SalesOrderProductObj", filters=[in_filter("order_id", [order["_id"]], "EQ")]
    )
    lines = reply["data"]["dataList"]
    assert lines
    assert all(line["order_id"] == order["_id"] for line in lines)
    total = sum(Decimal(line["subtotal"]) for line in lines)
    assert total == Decimal(order["product_amount"])
