"""Shared conversions: countries, decimals, datetimes and cursors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from resolvers.canonical import (
    country_code,
    format_naive_datetime,
    format_offset_datetime,
    parse_naive_datetime,
    parse_offset_datetime,
    to_decimal,
    with_minor_units,
)
from resolvers.cursors import decode_cursor, encode_cursor
from resolvers.errors import InvalidInput

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Germany", "DE"),  # Zoho stores the country as a display name
        ("  united states ", "US"),  # case and stray spaces from free-text input
        ("United Kingdom", "GB"),  # the ISO code is not the obvious "UK"
        ("de", "DE"),  # a two-letter code passes through, upper-cased
        ("Atlantis", "Atlantis"),  # unknown names are kept, not dropped
        ("", None),  # Frappe sends empty strings for unset fields
        (None, None),  # Zoho sends null
    ],
)
def test_country_names_become_iso_codes_where_known(name: str | None, code: str | None) -> None:
    assert country_code(name) == code


class _Text(str):
    """A str subclass, as some JSON decoders hand out."""


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (19.99, Decimal("19.99")),  # a JSON float keeps its shortest repr, not binary noise
        (3, Decimal(3)),  # Frappe quantities may be ints
        ("1299.50", Decimal("1299.50")),  # a numeric string keeps its scale
        (None, None),  # unset money stays unset
        ("n/a", None),  # garbage is not a number
        (True, None),  # a Check field is not a quantity
        (float("nan"), None),  # NaN is not an amount
        (float("inf"), None),  # nor is infinity
        ("Infinity", None),  # spelled out
        ("", None),  # Frappe's empty field
        (" 7 ", Decimal(7)),  # surrounding spaces are read as Decimal reads them
        (_Text("4.20"), Decimal("4.20")),  # a str subclass reads as its text
        (Decimal("2.5"), None),  # not a wire type
        ([1], None),  # nor is a list
    ],
)
def test_wire_numbers_become_decimals_without_float_noise(
    wire: object, expected: Decimal | None
) -> None:
    assert to_decimal(wire) == expected


def test_zoho_offset_times_become_utc() -> None:
    parsed = parse_offset_datetime("2023-05-10T01:10:47-07:00")

    assert parsed == datetime(2023, 5, 10, 8, 10, 47, tzinfo=UTC)
    assert parse_offset_datetime("yesterday") is None


def test_frappe_naive_times_are_read_in_the_site_time_zone_across_dst() -> None:
    summer = parse_naive_datetime("2026-06-27 10:00:00.000000", BERLIN)
    winter = parse_naive_datetime("2026-01-15 10:00:00", BERLIN)  # microseconds left off

    assert summer == datetime(2026, 6, 27, 8, 0, tzinfo=UTC)
    assert winter == datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def test_filters_are_written_in_each_systems_own_time_format() -> None:
    moment = datetime(2026, 6, 27, 8, 0, tzinfo=UTC)

    assert format_offset_datetime(moment) == "2026-06-27T08:00:00+00:00"
    assert format_naive_datetime(moment, BERLIN) == "2026-06-27 10:00:00.000000"


def test_a_cursor_round_trips_and_rejects_tampering() -> None:
    cursor = encode_cursor({"k": "erpnext:Shipment", "o": 40})

    assert decode_cursor(cursor, kind="erpnext:Shipment") == {"k": "erpnext:Shipment", "o": 40}
    with pytest.raises(InvalidInput):
        decode_cursor(cursor, kind="zoho:Accounts:list")
    with pytest.raises(InvalidInput):
        decode_cursor("not base64!", kind="erpnext:Shipment")


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("250000.0", "USD", "250000.00"),  # a JSON float from Zoho gains its cents
        ("12.3456", "USD", "12.3456"),  # a valuation rate keeps its precision
        ("1500", "JPY", "1500"),  # yen have no minor unit
        ("1.5", "KWD", "1.500"),  # dinars have three
        ("12.50", "USD", "12.50"),  # already exactly the minor digits
        ("12.3400", "USD", "12.3400"),  # trailing zeros past the minor digits are kept
        ("7", "KWD", "7.000"),  # a whole amount gains every minor digit
        ("1E+2", "USD", "100.00"),  # an exponent form too
        ("-0.5", "eur", "-0.50"),  # lower-case codes and signs
    ],
)
def test_money_shows_at_least_the_currencys_minor_digits(
    amount: str, currency: str, shown: str
) -> None:
    assert str(with_minor_units(Decimal(amount), currency)) == shown
