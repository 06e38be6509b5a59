"""Cheaper record building changes nothing: `fast_init` records and `to_decimal`'s caches."""

from __future__ import annotations

import copy
import dataclasses
import inspect
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from typing import Any

import pytest

from resolvers import canonical, records
from resolvers.canonical import shared_money, to_decimal, to_decimal_or_zero
from resolvers.record_init import fast_init
from resolvers.records import CatalogProduct, Money, OrderLine, OrderStatus, Page, StockLevel
from resolvers.zoho.mapping import to_order

RECORDS = [
    value
    for value in vars(records).values()
    if isinstance(value, type) and dataclasses.is_dataclass(value) and value is not Page
]


def reference(value: Any) -> Decimal | None:
    """What to_decimal answered before its caches: the plain conversion, each time."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    if not isinstance(value, (int, float, str)):
        return None
    try:
        number = Decimal(repr(value) if type(value) is float else str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


class Level(IntEnum):
    TWO = 2


class Text(str):
    pass


EDGES: list[Any] = [
    0,
    0.0,
    -0.0,
    0.0,
    "0",
    "-0",
    "0.00",
    1,
    1.0,
    "1",
    "1.0",
    "1.00",
    -1,
    -1.5,
    0.1,
    0.1 + 0.2,
    1e-7,
    1e16,
    1e22,
    123456789.123,
    2**53 + 1,
    10**30,
    -(10**30),
    19.99,
    12.5,
    "12.50",
    " 7 ",
    "1e3",
    "1E+3",
    "-0.000",
    "abc",
    "",
    "NaN",
    "Infinity",
    "-inf",
    float("nan"),
    float("inf"),
    float("-inf"),
    True,
    False,
    None,
    [],
    {},
    Decimal("1.5"),
    Level.TWO,
    Text("3.25"),
    5e-324,
    1.7976931348623157e308,
]


@pytest.mark.parametrize("order", [EDGES, list(reversed(EDGES))], ids=["forward", "reversed"])
def test_every_wire_number_gives_exactly_the_decimal_it_gave_before(order: list[Any]) -> None:
    # twice over: the first pass fills the caches, the second reads them
    for value in [*order, *order]:
        got, want = to_decimal(value), reference(value)
        assert (got is None) == (want is None), value
        if want is not None:
            assert got is not None
            # same digits, exponent and sign: -0.0 stays "-0.0", 1.0 stays "1.0" beside 1
            assert got.as_tuple() == want.as_tuple(), value


def test_a_full_cache_starts_again_and_stays_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    # caches of this test's own, whatever earlier tests left in the process-wide ones
    monkeypatch.setattr(canonical, "_KNOWN", {float: {}, int: {}, str: {}})
    monkeypatch.setattr(canonical, "_KNOWN_LIMIT", 8)
    values = [n / 4 for n in range(1, 40)] + [str(n) + ".50" for n in range(40)] + [*range(40)]
    for value in [*values, *values]:
        assert str(to_decimal(value)) == str(reference(value))
        assert str(to_decimal_or_zero(value)) == str(reference(value))
    assert all(0 < len(known) <= 8 for known in canonical._KNOWN.values())


def test_a_missing_number_is_zero() -> None:
    assert to_decimal_or_zero(None) == 0
    assert to_decimal_or_zero("x") == 0
    assert str(to_decimal_or_zero(2.50)) == "2.5"


@pytest.mark.parametrize("cls", RECORDS, ids=lambda cls: cls.__name__)
def test_every_record_takes_the_arguments_its_dataclass_init_takes(cls: type) -> None:
    parameters = list(inspect.signature(cls).parameters.values())
    fields = dataclasses.fields(cls)
    assert [p.name for p in parameters] == [f.name for f in fields]
    for parameter, f in zip(parameters, fields, strict=True):
        assert parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        expected = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert parameter.default is expected
    assert cls.__init__.__code__.co_filename == f"<record {cls.__qualname__}>"


def test_a_fast_record_is_still_a_frozen_dataclass() -> None:
    price = Money(Decimal("2.50"), "USD")
    line = OrderLine("SKU-1", Decimal(3), price, Money(Decimal("7.50"), currency="USD"))

    assert line == OrderLine("SKU-1", Decimal(3), price, Money(Decimal("7.5"), "USD"))
    assert hash(line) == hash(OrderLine("SKU-1", Decimal(3), price, Money(Decimal("7.5"), "USD")))
    assert line.product_id is None  # the defaults
    assert line.catalog is None
    assert dataclasses.replace(line, sku="SKU-2").sku == "SKU-2"
    assert dataclasses.asdict(price) == {"amount": Decimal("2.50"), "currency": "USD"}
    assert copy.deepcopy(line) == line
    assert repr(price) == "Money(amount=Decimal('2.50'), currency='USD')"
    with pytest.raises(dataclasses.FrozenInstanceError):
        line.sku = "other"  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        StockLevel("SKU-1", "Stores", Decimal(1), Decimal(0), Decimal(1))  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        Money(Decimal(1), "USD", rate=2)  # type: ignore[call-arg]


def test_a_line_compares_without_its_catalog_product() -> None:
    price = Money(Decimal(1), "USD")
    product = CatalogProduct("p1", "SKU-1", "Widget", active=True, updated_at=canonical.EPOCH)
    line = OrderLine("SKU-1", Decimal(1), price, price, catalog=product)

    assert line.catalog is product
    assert line == OrderLine("SKU-1", Decimal(1), price, price)


def test_what_the_generated_init_does_beyond_storing_is_left_to_it() -> None:
    @dataclass(frozen=True, slots=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            if self.value < 0:
                raise ValueError("negative")

    @dataclass(frozen=True, slots=True)
    class Listed:
        items: list[int] = field(default_factory=list)

    @dataclass(frozen=True)
    class Unslotted:
        value: int

    for cls in (Checked, Listed, Unslotted):
        generated = cls.__init__
        assert fast_init(cls).__init__ is generated
    with pytest.raises(ValueError, match="negative"):
        Checked(-1)
    assert Page((1,)).extra == {}


def test_the_records_mapped_positionally_keep_their_field_order() -> None:
    # resolvers/zoho/mapping.py and resolvers/erpnext/mapping.py build these positionally
    # (cheaper than keywords): a reordered field would silently land in another attribute
    def names(cls: type) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    assert names(OrderLine) == ["sku", "quantity", "unit_price", "total", "product_id", "catalog"]
    assert names(StockLevel) == [
        "sku",
        "warehouse_id",
        "on_hand",
        "reserved",
        "available",
        "projected",
    ]
    assert names(records.Order) == [
        "id",
        "number",
        "status",
        "customer_id",
        "lines",
        "subtotal",
        "tax",
        "total",
        "placed_at",
        "updated_at",
        "external_ref",
        "subject",
        "customer_name",
    ]


def test_shared_money_keeps_each_amounts_digits() -> None:
    one, one_point_zero = Decimal("1.0"), Decimal("1.00")
    first = shared_money(one, "USD")

    assert shared_money(one, "USD") is first  # the same Decimal object: the same Money
    assert str(shared_money(one_point_zero, "USD").amount) == "1.00"  # equal, not the same
    assert str(shared_money(one, "USD").amount) == "1.0"
    assert shared_money(one, "EUR").currency == "EUR"


def test_a_full_money_cache_starts_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(canonical, "_MONIES", {})
    monkeypatch.setattr(canonical, "_KNOWN_LIMIT", 4)
    amounts = [Decimal(n) / 4 for n in range(20)]
    assert [shared_money(a, "USD").amount for a in amounts] == amounts
    assert len(canonical._MONIES) <= 4


def test_zoho_amounts_are_read_or_derived_as_before() -> None:
    def line(code: str, **amounts: Any) -> dict[str, Any]:
        return {"Product_Name": {"id": f"p-{code}", "Product_Code": code}, **amounts}

    record: dict[str, Any] = {
        "id": "9",
        "Status": "Created",
        "Ordered_Items": [
            line("A", Quantity=2, List_Price=2.5, Net_Total="5.00"),
            line("B", Quantity=3.0, List_Price="1.10"),  # no total: price × quantity
        ],
        "Tax": 0.5,
    }
    statuses = {"Created": OrderStatus.CREATED}
    derived = to_order(record, statuses=statuses, currency="USD", skus={})
    a, b = derived.lines

    assert [str(a.quantity), str(a.unit_price.amount), str(a.total.amount)] == ["2", "2.5", "5.00"]
    assert [str(b.quantity), str(b.unit_price.amount)] == ["3.0", "1.10"]
    assert str(b.total.amount) == "3.300"
    assert str(derived.subtotal.amount) == "8.300"  # the lines' totals
    assert str(derived.total.amount) == "8.800"  # subtotal + tax
    read = to_order(
        {**record, "Sub_Total": 8.3, "Grand_Total": "8.80"},
        statuses=statuses,
        currency="EUR",
        skus={},
    )
    assert (str(read.subtotal.amount), str(read.total.amount)) == ("8.3", "8.80")
    assert read.total.currency == "EUR"
