"""The query parameters of an export: `updated_since` (RFC 3339) and `limit` (rows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from resolvers.errors import InvalidInput
from schema.scalars import parse_datetime

KNOWN = ("updated_since", "limit")
MAX_LIMIT = 10_000_000


@dataclass(frozen=True)
class ExportParams:
    """A validated export request: rows changed since when, and at most how many."""

    updated_since: datetime | None = None
    limit: int | None = None


def _restore_plus(text: str) -> str:
    # An unencoded "+01:00" in a query string arrives as " 01:00".
    if len(text) > 19 and text[-6] == " " and text[-3] == ":":
        return text[:-6] + "+" + text[-5:]
    return text


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_datetime(_restore_plus(text.strip()))
    except ValueError as err:
        raise InvalidInput(
            f"updated_since: {err} (e.g. updated_since=2026-03-01T10:00:00Z)",
            argument="updated_since",
        ) from None


def _limit(text: str | None) -> int | None:
    if text is None:
        return None
    # isascii: "²".isdigit() holds and int("²") fails; the length keeps int() off huge inputs
    digits = text.isascii() and text.isdigit() and len(text) <= len(str(MAX_LIMIT))
    if not digits or not 1 <= int(text) <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be a whole number from 1 to {MAX_LIMIT}, got {text[:20]!r}",
            argument="limit",
        )
    return int(text)


def parse_params(query: Mapping[str, str]) -> ExportParams:
    """ExportParams from a query string; InvalidInput names the offending parameter."""
    unknown = sorted(set(query) - set(KNOWN))
    if unknown:
        raise InvalidInput(
            f"unknown query parameter {unknown[0][:40]!r}; known: {', '.join(KNOWN)}",
            argument=unknown[0][:40],
        )
    return ExportParams(_since(query.get("updated_since")), _limit(query.get("limit")))
