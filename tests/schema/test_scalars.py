"""The canonical scalars: UTC "Z" date-times and decimal strings, and their input errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from schema.scalars import parse_datetime, parse_decimal, serialize_datetime, serialize_decimal

IST = timezone(timedelta(hours=5, minutes=30))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2026, 3, 1, 15, 30, tzinfo=IST), "2026-03-01T10:00:00Z"),  # Zoho's offsets
        (datetime(2026, 3, 1, 10, 0, 0, 250000, tzinfo=UTC), "2026-03-01T10:00:00.250000Z"),
    ],
)
def test_datetimes_serialize_as_rfc3339_utc_with_z(value: datetime, text: str) -> None:
    assert serialize_datetime(value) == text
    assert parse_datetime(text) == value


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="naive"):
        serialize_datetime(datetime(2026, 3, 1))


@pytest.mark.parametrize("bad", ["yesterday", "2026-03-01T10:00:00", 1700000000])
def test_bad_datetime_input_is_a_value_error(bad: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - strawberry turns it into a GraphQL error
        parse_datetime(bad)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1299.50"), "1299.50"),  # trailing zero kept
        (Decimal("1E+3"), "1000"),  # never an exponent
    ],
)
def test_decimals_serialize_as_plain_strings(value: Decimal, text: str) -> None:
    assert serialize_decimal(value) == text


@pytest.mark.parametrize("bad", ["12,5", "NaN", 1.5, True])
def test_bad_decimal_input_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        parse_decimal(bad)


PLACE = """mutation($q: Decimal!) { placeOrder(idempotencyKey: "k-scalar",
  input: {customerId: "1", lines: [{sku: "SKU-00001", quantity: $q}]}) { status } }"""
PLACE_LITERAL = """mutation { placeOrder(idempotencyKey: "k-scalar",
  input: {customerId: "1", lines: [{sku: "SKU-00001", quantity: "abc"}]}) { status } }"""


@pytest.mark.parametrize(
    "body",
    [
        {"query": PLACE, "variables": {"q": "abc"}},  # a bad variable: coercion error
        {"query": PLACE_LITERAL},  # a bad literal: validation error
    ],
)
async def test_a_malformed_decimal_input_is_the_clients_error_not_an_unexpected_one(
    http: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await http.post("/graphql", json=body, headers={"Accept": "application/json"})
    error = response.json()["errors"][0]
    assert "'abc' is not a decimal number" in error["message"]
    assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR"
