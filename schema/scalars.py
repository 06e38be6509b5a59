"""The canonical scalars: DateTime (RFC 3339, UTC, "Z") and Decimal (a string, never a float).

They replace strawberry's built-in `datetime` and `Decimal` scalars through `scalar_map`, so
types annotate plain `datetime` / `Decimal` fields and always serialize canonically.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition


class InvalidScalar(GraphQLError, ValueError):
    """A bad DateTime or Decimal input. Being a GraphQLError, graphql-core reports it as the
    client's mistake (a validation or variable error), never as an unexpected server error;
    graphql-core's wrapping error adopts its code, BAD_USER_INPUT."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "BAD_USER_INPUT"})


# The instants a client may give: a day inside what `datetime` can hold at each end, so that
# converting one to any backend's zone (offsets are under a day) or taking a margin of up to a
# day off it never overflows.
EDGE_MARGIN = timedelta(days=1)
EARLIEST = datetime.min.replace(tzinfo=UTC) + EDGE_MARGIN
LATEST = datetime.max.replace(tzinfo=UTC) - EDGE_MARGIN


def _shown(value: str) -> str:
    """A client's value quoted in a message, cut short (it may be a megabyte long)."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


def serialize_datetime(value: datetime) -> str:
    """RFC 3339 in UTC with a "Z", seconds precision unless the value has fractions."""
    if value.tzinfo is None:
        raise ValueError("naive datetime reached the schema; connectors must return UTC")
    utc = value.astimezone(UTC)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise InvalidScalar("DateTime must be an RFC 3339 string such as 2026-03-01T10:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        example = "2026-03-01T10:00:00Z"
        message = f"{_shown(value)} is not an RFC 3339 date-time (e.g. {example})"
        raise InvalidScalar(message) from None
    if parsed.tzinfo is None:
        raise InvalidScalar(f"{_shown(value)} has no time zone offset; add Z or +hh:mm")
    return _in_range(parsed, value)


def _in_range(parsed: datetime, value: str) -> datetime:
    """`parsed` in UTC, if it lies between EARLIEST and LATEST (0001-01-01T00:00:00+14:00 is
    not even representable in UTC)."""
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        earliest, latest = serialize_datetime(EARLIEST), serialize_datetime(LATEST)
        raise InvalidScalar(
            f"{_shown(value)} is out of range; a DateTime lies from {earliest} to {latest}"
        )
    return utc


def serialize_decimal(value: Decimal) -> str:
    """Plain positional notation ("1299.50"), never an exponent, never a float."""
    return format(value, "f")


def parse_decimal(value: Any) -> Decimal:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise InvalidScalar('Decimal must be a string such as "1299.50"')
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InvalidScalar(f"{_shown(str(value))} is not a decimal number") from None
    if not number.is_finite():
        raise InvalidScalar(f"{_shown(str(value))} is not a finite decimal number")
    return number


DATETIME: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description='An instant, RFC 3339 in UTC, e.g. "2026-03-01T10:00:00Z".',
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)

DECIMAL: ScalarDefinition = strawberry.scalar(
    name="Decimal",
    description='A decimal number as a string, e.g. "1299.50"; never a float.',
    serialize=serialize_decimal,
    parse_value=parse_decimal,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {datetime: DATETIME, Decimal: DECIMAL}
