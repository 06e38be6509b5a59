"""CSV injection: CRM text that a spreadsheet would run as a formula is exported with a
leading `'` by default, and as-is with `csv_formulas="keep"`; NDJSON is never altered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backends.erpnext.store import ErpStore
from backends.seed import seed
from backends.zoho.store import ZohoStore
from gateway.views import ViewOptions
from tests.support.stack import SeededStores
from tests.support.views import ViewsClient, csv_rows, ndjson, token

ADMIN = token("admin")
FORMULA = '=HYPERLINK("http://evil.test","x")'


@pytest.fixture
def seeded_stores(tmp_path: Path) -> SeededStores:
    """Stores of this test alone, where every customer's name is a formula."""
    stores = SeededStores(ZohoStore(tmp_path / "zoho.sqlite3"), ErpStore(tmp_path / "erp.sqlite3"))
    seed(stores.zoho, stores.erp, scale=0.05, random_seed=11)
    for module in ("Accounts", "Sales_Orders"):
        for doc in stores.zoho.select(module, "1 = 1", ()):
            stores.zoho.save(module, _named(doc, module))
    return stores


def _named(doc: dict[str, Any], module: str) -> dict[str, Any]:
    if module == "Accounts":
        return {**doc, "Account_Name": FORMULA}
    lookup = doc.get("Account_Name")
    return {**doc, "Account_Name": {**lookup, "name": FORMULA}} if lookup else doc


@pytest.fixture
def view_options(request: pytest.FixtureRequest) -> ViewOptions:
    return ViewOptions(csv_formulas=getattr(request, "param", "escape"))


async def test_formula_text_gets_a_leading_quote_in_csv_by_default(views: ViewsClient) -> None:
    response = await views.get("/views/order_lines.csv", bearer=ADMIN, limit="20")
    header, *records = csv_rows(response)
    names = {record[header.index("customer_name")] for record in records}
    assert names == {"'" + FORMULA}
    prices = [record[header.index("unit_price")] for record in records]
    assert all(not p.startswith("'") for p in prices)  # numbers are never escaped


async def test_ndjson_carries_the_formula_text_unaltered(views: ViewsClient) -> None:
    rows = ndjson(await views.get("/views/order_lines.ndjson", bearer=ADMIN, limit="20"))
    assert {row["customer_name"] for row in rows} == {FORMULA}


@pytest.mark.parametrize("view_options", ["keep"], indirect=True)
async def test_csv_formulas_keep_exports_the_text_as_it_is(views: ViewsClient) -> None:
    response = await views.get("/views/order_lines.csv", bearer=ADMIN, limit="20")
    header, *records = csv_rows(response)
    assert {record[header.index("customer_name")] for record in records} == {FORMULA}
