"""Comparing values across systems the way a person would: case, spacing and punctuation do
not count, a country is the same whether named or coded (`Germany` = `DE`), a postcode is
the same with or without its space. Only values still different after this are drift.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from resolvers.canonical import country_code
from resolvers.records import Address

from .findings import Difference

_SPACES = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[^\w\s&]")
_ADDRESS_PARTS = ("street", "city", "region", "postal_code", "country")


def norm_text(value: str | None) -> str:
    """Case-folded, NFKC-normalised, with runs of white space as one space; None is ""."""
    if value is None:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip().casefold()


def norm_name(value: str | None) -> str:
    """A company name to compare: `norm_text` without punctuation (`GmbH.` = `gmbh`)."""
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", norm_text(value))).strip()


def norm_country(value: str | None) -> str:
    return (country_code(value) or "").upper()


def norm_postcode(value: str | None) -> str:
    return norm_text(value).replace(" ", "").replace("-", "")


def same_text(a: str | None, b: str | None) -> bool:
    return norm_text(a) == norm_text(b)


def address_differences(
    crm: Address | None, erp: Address | None, *, prefix: str = "address"
) -> list[Difference]:
    """The address parts that differ after normalisation, as `address.city` etc."""
    left, right = crm or Address(), erp or Address()
    return [
        Difference(f"{prefix}.{part}", getattr(left, part), getattr(right, part))
        for part in _ADDRESS_PARTS
        if _norm(part, getattr(left, part)) != _norm(part, getattr(right, part))
    ]


def _norm(part: str, value: str | None) -> str:
    if part == "country":
        return norm_country(value)
    if part == "postal_code":
        return norm_postcode(value)
    return norm_text(value)


def email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return norm_text(email.rsplit("@", 1)[1]) or None


def number(value: Decimal) -> str:
    """A quantity as people write it: 7, 2.5 (not 7.0, 2.50 or 7E+1)."""
    return format(value.normalize(), "f")
