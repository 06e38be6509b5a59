"""What an order may ask for (issue 13, case 5): quantities, UOM precision, limits, credit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.settings.saga import parse_saga
from gateway.settings.section import SettingsError
from resolvers.errors import InvalidInput
from resolvers.saga import ProcessStatus
from resolvers.saga.quantities import OrderLimits
from resolvers.saga.state import LineInput, OrderInput
from tests.support.saga import Systems


def order(customer: str, *lines: tuple[str, str]) -> OrderInput:
    return OrderInput(customer, tuple(LineInput(s, Decimal(q)) for s, q in lines))


def _kilo_item(systems: Systems) -> None:
    systems.erp.store.insert("Item", [{"item_code": "SKU-KG", "item_name": "Sand",
                                       "item_group": "Products", "stock_uom": "Kg"}])  # fmt: skip
    systems.set_stock("SKU-KG", "Stores - AC", 100)
    systems.add_crm_product("Sand", "SKU-KG", 2)


# Both were accepted: a 0.00 order, and a pending order of 32.59 billion.
@pytest.mark.parametrize("quantity", ["0.0000000001", "1E+9", "10001", "-0", "Infinity"])
async def test_tiny_huge_and_unbounded_quantities_are_refused_naming_the_line(
    systems: Systems, quantity: str
) -> None:
    placed = order(systems.accounts["northwind"], ("SKU-A", "1"), ("SKU-B", quantity))
    with pytest.raises(InvalidInput, match=r"lines\[1\]\.quantity") as raised:
        await systems.service().place_order(placed, "k-q")
    assert raised.value.code == "BAD_USER_INPUT"
    assert systems.zoho.stats.total == 0  # refused before any backend call
    assert systems.crm_orders() == []


async def test_a_fraction_of_a_whole_number_uom_is_refused_and_of_kg_accepted(
    systems: Systems,
) -> None:
    _kilo_item(systems)
    service = systems.service()
    customer = systems.accounts["northwind"]
    with pytest.raises(InvalidInput, match=r"lines\[0\]\.quantity must be a whole number of Nos"):
        await service.place_order(order(customer, ("SKU-A", "1.5")), "k-nos")
    assert systems.crm_orders() == []
    kilos = await service.place_order(order(customer, ("SKU-KG", "1.5")), "k-kg")
    assert kilos.status is ProcessStatus.APPROVED
    assert [r.reserved for r in kilos.reservations] == [Decimal("1.5")]


async def test_an_order_above_the_maximum_order_value_is_refused(systems: Systems) -> None:
    service = systems.service(limits=OrderLimits(max_order_value=Decimal(500)))
    with pytest.raises(InvalidInput, match="exceeds the maximum order value 500"):
        await service.place_order(order(systems.accounts["northwind"], ("SKU-A", "6")), "k-v")
    assert systems.crm_orders() == []
    fine = await service.place_order(order(systems.accounts["northwind"], ("SKU-A", "5")), "k-v")
    assert fine.status is ProcessStatus.APPROVED


async def test_a_held_order_does_not_use_up_the_customers_credit(systems: Systems) -> None:
    service = systems.service()
    customer = systems.accounts["northwind"]  # credit 10000
    held = await service.place_order(order(customer, ("SKU-A", "150")), "k-held")  # 15000
    assert held.status is ProcessStatus.PENDING_APPROVAL
    small = await service.place_order(order(customer, ("SKU-A", "2")), "k-small")
    assert small.status is ProcessStatus.APPROVED
    # Approved (reserving) orders do count: 2 × 100 is taken from the 10000.
    big = await service.place_order(order(customer, ("SKU-A", "50")), "k-rest")
    assert big.status is ProcessStatus.PENDING_APPROVAL


def test_order_limits_come_from_saga_limits_and_bad_values_name_the_key() -> None:
    table = {"journal_key": "x", "limits": {"max_line_quantity": 500, "max_order_value": "2000"}}
    limits = parse_saga(table, {}).limits
    assert limits == OrderLimits(Decimal(500), Decimal(2000), 3)
    with pytest.raises(SettingsError, match=r"max_line_quantity must be a positive number"):
        parse_saga({"limits": {"max_line_quantity": 0}}, {})
    with pytest.raises(SettingsError, match=r"unknown saga.limits key\(s\) \['max_lines'\]"):
        parse_saga({"limits": {"max_lines": 3}}, {})
    with pytest.raises(SettingsError, match=r"on_short_reservation must be one of"):
        parse_saga({"on_short_reservation": "oversell"}, {})
