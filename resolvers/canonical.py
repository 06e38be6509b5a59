"""Shared conversions from wire values to the canonical model (DESIGN.md, "Canonical model").

Every connector funnels its dialect through these: decimals never pass through float
arithmetic, datetimes end in UTC, and country names become ISO 3166-1 alpha-2 codes
where the name is known (unknown names pass through unchanged rather than being lost).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from math import copysign
from typing import Any
from zoneinfo import ZoneInfo

from resolvers.errors import InvalidInput
from resolvers.records import Money, OrderStatus, ShipmentStatus

COUNTRIES: dict[str, str] = {
    "afghanistan": "AF", "algeria": "DZ", "argentina": "AR", "australia": "AU", "austria": "AT",
    "bangladesh": "BD", "belgium": "BE", "brazil": "BR", "bulgaria": "BG", "canada": "CA",
    "chile": "CL", "china": "CN", "colombia": "CO", "croatia": "HR", "czech republic": "CZ",
    "czechia": "CZ", "denmark": "DK", "egypt": "EG", "estonia": "EE", "finland": "FI",
    "france": "FR", "germany": "DE", "deutschland": "DE", "greece": "GR", "hong kong": "HK",
    "hungary": "HU", "iceland": "IS", "india": "IN", "indonesia": "ID", "iran": "IR", "iraq": "IQ",
    "ireland": "IE", "israel": "IL", "italy": "IT", "japan": "JP", "kenya": "KE",
    "latvia": "LV", "lithuania": "LT", "luxembourg": "LU", "malaysia": "MY", "mexico": "MX",
    "morocco": "MA", "netherlands": "NL", "the netherlands": "NL", "new zealand": "NZ",
    "nigeria": "NG", "norway": "NO", "pakistan": "PK", "peru": "PE", "philippines": "PH",
    "poland": "PL", "portugal": "PT", "qatar": "QA", "romania": "RO", "russia": "RU",
    "russian federation": "RU", "saudi arabia": "SA", "singapore": "SG", "slovakia": "SK",
    "slovenia": "SI", "south africa": "ZA", "south korea": "KR", "korea, republic of": "KR",
    "republic of korea": "KR", "spain": "ES", "sri lanka": "LK", "sweden": "SE",
    "switzerland": "CH", "taiwan": "TW", "thailand": "TH", "turkey": "TR", "türkiye": "TR",
    "ukraine": "UA", "united arab emirates": "AE", "uae": "AE", "united kingdom": "GB",
    "great britain": "GB", "uk": "GB", "england": "GB", "united states": "US",
    "united states of america": "US", "usa": "US", "u.s.a.": "US", "us": "US",
    "vietnam": "VN", "viet nam": "VN",
}  # fmt: skip

DEFAULT_ORDER_STATUSES: dict[str, OrderStatus] = {
    "Created": OrderStatus.CREATED,
    "Pending Approval": OrderStatus.PENDING_APPROVAL,
    "Approved": OrderStatus.APPROVED,
    "Delivered": OrderStatus.DELIVERED,
    "Cancelled": OrderStatus.CANCELLED,
}

DEFAULT_SHIPMENT_STATUSES: dict[str, ShipmentStatus] = {
    "Draft": ShipmentStatus.DRAFT,
    "Submitted": ShipmentStatus.BOOKED,
    "Booked": ShipmentStatus.BOOKED,
    "Cancelled": ShipmentStatus.CANCELLED,
    "Completed": ShipmentStatus.DELIVERED,
}

DEFAULT_TRACKING_STATUSES: dict[str, ShipmentStatus] = {
    "In Progress": ShipmentStatus.IN_TRANSIT,
    "Delivered": ShipmentStatus.DELIVERED,
    "Returned": ShipmentStatus.EXCEPTION,
    "Lost": ShipmentStatus.EXCEPTION,
}


def country_code(value: str | None) -> str | None:
    """ISO 3166-1 alpha-2 for a country name or code; an unknown name passes through trimmed."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return COUNTRIES.get(text.casefold(), text)


def to_decimal(value: Any) -> Decimal | None:
    """A wire number (JSON float/int or numeric string) as a Decimal; floats go through repr
    (0.1 → Decimal("0.1"), not the binary expansion); NaN, infinities, "" and text that is
    not a number → None.

    A request maps about 1,000 wire numbers, mostly the same few quantities and prices: each
    type keeps the Decimals it made (`_KNOWN`; a Decimal is immutable, so one object can be
    handed out again): about 3× cheaper per number in a micro-bench, and its share of the
    peer's W2 under `bench.cpu_sample` fell from 7.5 % to below 1 %.
    The caches are keyed by type because equal wire values of different types are different
    Decimals (1 → "1", 1.0 → "1.0", "1.00" → "1.00").
    """
    known = _KNOWN.get(value.__class__)
    if known is None:  # bool, None, subclasses and anything else: the careful path
        return to_decimal_uncached(value)
    number = known.get(value)
    if number is None:
        if value == 0 and value.__class__ is float:
            # -0.0 == 0.0 (and hash alike) but reads "-0.0": float zeros are kept apart
            return _FLOAT_ZEROS[copysign(1.0, value) < 0]
        number = to_decimal_uncached(value)
        if number is not None:
            if len(known) >= _KNOWN_LIMIT:
                known.clear()
            known[value] = number
    return number


def to_decimal_uncached(value: Any) -> Decimal | None:
    """`to_decimal` without its caches, for wire numbers that seldom repeat (timestamps)."""
    kind = value.__class__
    if kind is bool or value is None or value == "":
        return None
    if kind is not str and kind is not float and kind is not int:  # subclasses: as str() reads
        if not isinstance(value, (int, float, str)) or isinstance(value, bool):
            return None
        value = str(value)
    try:
        number = Decimal(repr(value) if kind is float else value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


# Decimals already made, per wire type (see to_decimal); cleared when one holds _KNOWN_LIMIT.
_KNOWN: dict[type, dict[Any, Decimal]] = {float: {}, int: {}, str: {}}
_KNOWN_LIMIT = 4096
_ZERO = Decimal(0)
_FLOAT_ZEROS = (Decimal("0.0"), Decimal("-0.0"))  # to_decimal(0.0), to_decimal(-0.0)


def to_decimal_or_zero(value: Any) -> Decimal:
    """`to_decimal`, with 0 for a missing or unreadable number."""
    known = _KNOWN.get(value.__class__)
    number = None if known is None else known.get(value)  # to_decimal's hit, one call less
    if number is None:
        number = to_decimal(value)
    return _ZERO if number is None else number


# ISO 4217 minor units where they are not 2 (the common case).
MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "HUF": 2,
               "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3}  # fmt: skip


def with_minor_units(amount: Decimal, currency: str) -> Decimal:
    """Shows at least the currency's minor digits ("250000.0" USD → "250000.00"), losslessly:
    an amount with more digits (a valuation rate of 12.3456) keeps them."""
    minor = MINOR_UNITS.get(currency.upper(), 2)
    quantum = _QUANTA[minor] if minor < len(_QUANTA) else Decimal(1).scaleb(-minor)
    # same_quantum answers the usual cases ("12.50", "250000" or "678.1" USD) without
    # as_tuple(), which builds a tuple of every digit
    if amount.same_quantum(quantum):
        return amount
    for shorter in _QUANTA[:minor]:
        if amount.same_quantum(shorter):
            return amount.quantize(quantum)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -minor:
        return amount.quantize(quantum)
    return amount


_QUANTA = tuple(Decimal(1).scaleb(-n) for n in range(4))  # 1, 0.1, 0.01, 0.001


def money(value: Any, currency: str) -> Money | None:
    amount = to_decimal(value)
    return None if amount is None else shared_money(amount, currency)


def money_or_zero(value: Any, currency: str) -> Money:
    return shared_money(to_decimal_or_zero(value), currency)


def shared_money(amount: Decimal, currency: str) -> Money:
    """`Money(amount, currency)`, the same object again for the same Decimal object.

    to_decimal hands out one Decimal per repeated wire number, so the repeated prices and
    totals of a request (about 440 Money in a peer W2) mostly find their Money made; a
    lookup costs about a third of building one. The match is on the Decimal's identity, not
    its value: Decimal("1.0") == Decimal("1.00"), and each must keep its digits.
    """
    key = (amount, currency)
    found = _MONIES.get(key)
    if found is not None and found.amount is amount:
        return found
    made = Money(amount, currency)
    if len(_MONIES) >= _KNOWN_LIMIT:
        _MONIES.clear()
    _MONIES[key] = made
    return made


_MONIES: dict[tuple[Decimal, str], Money] = {}


def parse_offset_datetime(value: Any) -> datetime | None:
    """An ISO 8601 datetime with an offset (Zoho: `2023-05-10T01:10:47-07:00`) in UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return _utc_or_none(parsed)


def parse_naive_datetime(value: Any, tz: ZoneInfo) -> datetime | None:
    """A Frappe naive site-local datetime (`2026-06-27 10:00:00.000000`) in UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return _utc_or_none(parsed)


def _utc_or_none(value: datetime) -> datetime | None:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # a year-1 or year-9999 value no UTC datetime can hold
        return None


def format_offset_datetime(value: datetime) -> str:
    """A datetime as Zoho criteria want it: seconds precision with a numeric offset.

    isoformat, not strftime: `%Y` writes year 1 as "1" on glibc, which Zoho refuses."""
    utc = _in_zone(value, UTC)
    return utc.isoformat(timespec="seconds") + "+00:00"


def format_naive_datetime(value: datetime, tz: ZoneInfo) -> str:
    """A datetime as a Frappe filter wants it: naive, in the site's time zone."""
    return _in_zone(value, tz).isoformat(sep=" ", timespec="microseconds")


def _in_zone(value: datetime, tz: tzinfo) -> datetime:
    """`value` (naive = UTC) as a naive datetime in `tz`; InvalidInput when it overflows."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        return aware.astimezone(tz).replace(tzinfo=None)
    except OverflowError:
        raise InvalidInput(f"{value.isoformat()} is out of range in time zone {tz}") from None


def text(value: Any) -> str | None:
    """A non-empty string field, else None (Zoho sends null, Frappe sends "")."""
    if value.__class__ is str:  # the common case, first
        return value.strip() or None
    if value is None:
        return None
    return str(value).strip() or None


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
