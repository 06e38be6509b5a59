"""Zoho order reads narrowed to the attributes a caller needs (resolvers.columns): the
`fields=` each read sends, and totals derived from fields a narrowed read did not ask for."""

from __future__ import annotations

from decimal import Decimal

from backends.zoho.app import ZohoEmulator
from backends.zoho.store import ZohoStore
from resolvers.records import Money
from resolvers.zoho import ZohoCRM
from resolvers.zoho.mapping import ORDER_FIELDS
from tests.support.connectors import RecordingTransport, order, zoho_id

FULL = {*ORDER_FIELDS.split(","), "External_Ref"}  # and the tenant's external reference field


def fields_sent(wire: RecordingTransport, path: str) -> list[set[str]]:
    return [set(params["fields"].split(",")) for params in wire.params(path)]


async def test_a_full_read_asks_every_order_field_as_before(
    crm: ZohoCRM, zoho_store: ZohoStore, zoho_wire: RecordingTransport
) -> None:
    zoho_store.insert("Sales_Orders", [order(n, 1) for n in (1, 2)])
    await crm.get_orders([zoho_id(200_001), zoho_id(200_002)])
    assert fields_sent(zoho_wire, "/Sales_Orders") == [FULL]


async def test_a_narrowed_read_asks_only_the_wanted_fields_and_fills_them(
    crm: ZohoCRM, zoho_store: ZohoStore, zoho_wire: RecordingTransport
) -> None:
    zoho_store.insert("Sales_Orders", [order(n, 1, Grand_Total=42.5) for n in (1, 2)])
    ids = [zoho_id(200_001), zoho_id(200_002)]
    narrowed = await crm.get_orders(ids, wanted=frozenset({"number", "total"}))
    full = await crm.get_orders(ids)
    asked = fields_sent(zoho_wire, "/Sales_Orders")
    assert asked[0] == {"Status", "SO_Number", "Grand_Total", "Currency"}
    for order_id in ids:
        assert narrowed[order_id].number == full[order_id].number
        assert narrowed[order_id].total == full[order_id].total == Money(Decimal("42.5"), "EUR")
        assert narrowed[order_id].status == full[order_id].status


async def test_a_set_naming_an_unknown_attribute_reads_in_full(
    crm: ZohoCRM, zoho_store: ZohoStore, zoho_wire: RecordingTransport
) -> None:
    zoho_store.insert("Sales_Orders", [order(1, 1)])
    await crm.get_orders([zoho_id(200_001)], wanted=frozenset({"number", "external_ref"}))
    assert fields_sent(zoho_wire, f"/Sales_Orders/{zoho_id(200_001)}") == [FULL]


async def test_a_total_the_order_lacks_is_derived_after_reading_that_order_again_in_full(
    crm: ZohoCRM,
    zoho_store: ZohoStore,
    zoho_emulator: ZohoEmulator,
    zoho_wire: RecordingTransport,
) -> None:
    # a raw record without totals (Zoho may omit Grand_Total, dialects §A.8): the total is
    # Sub_Total + Tax, the subtotal the sum of the lines, which the narrowed read did not ask
    zoho_store.insert(
        "Sales_Orders", [order(1, 1, Grand_Total=None, Sub_Total=None), order(2, 1, Grand_Total=10)]
    )
    ids = [zoho_id(200_001), zoho_id(200_002)]
    narrowed = await crm.get_orders(ids, wanted=frozenset({"total"}))
    full = await crm.get_orders(ids)
    assert [narrowed[i].total for i in ids] == [full[i].total for i in ids]
    assert narrowed[ids[0]].total == Money(Decimal("47.58"), "EUR")  # 39.98 + 7.6
    # the narrowed read, the order without a total again in full (alone), the full read
    assert fields_sent(zoho_wire, "/Sales_Orders") == [{"Status", "Grand_Total", "Currency"}, FULL]
    assert fields_sent(zoho_wire, f"/Sales_Orders/{ids[0]}") == [FULL]
    routes = zoho_emulator.stats.snapshot()["routes"]
    assert (routes["GET /crm/v8/Sales_Orders"], routes["GET /crm/v8/Sales_Orders/{id}"]) == (2, 1)
