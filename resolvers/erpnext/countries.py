"""ISO 3166-1 alpha-2 codes to the names of Frappe's `Country` DocType (what an ERPNext
`Address.country` links to), so that a canonical country is written in ERPNext's own form.

Frappe names its countries after its country_info.json ("United States", "Korea, Republic of",
"Viet Nam", "Russian Federation"); each name here reads back to its code through
`resolvers.canonical.country_code`, so a written address compares equal to its source.
"""

from __future__ import annotations

from resolvers.canonical import COUNTRIES

# Where Frappe's name is not the first name `COUNTRIES` knows for the code.
_FRAPPE_NAMES = {
    "KR": "Korea, Republic of",
    "RU": "Russian Federation",
    "VN": "Viet Nam",
    "CZ": "Czech Republic",
}


def _names() -> dict[str, str]:
    names: dict[str, str] = {}
    for name, code in COUNTRIES.items():
        names.setdefault(code, name.title() if len(name) > 3 else name.upper())
    return {**names, **_FRAPPE_NAMES}


COUNTRY_NAMES: dict[str, str] = _names()


def country_name(code: str | None) -> str | None:
    """Frappe's Country name for an ISO code; anything else (an unknown code, a name the CRM
    held that was not recognised) passes through unchanged."""
    if code is None:
        return None
    return COUNTRY_NAMES.get(code.upper(), code) if len(code) == 2 else code
