"""Views under the same access rules as /graphql: omitted columns, masks, partner rows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from backends.erpnext.app import ErpEmulator
from gateway.settings import Settings
from gateway.views import ViewCatalog, ViewOptions, parse_view_catalog
from tests.support.views import ViewsClient, ndjson, token

SHIPMENT_MONEY = ["value", "currency"]
CRM_ONLY = token(scopes=["crm:read"])  # orders, but no products, stock or shipments


async def _listing(views: ViewsClient, bearer: str) -> dict[str, dict[str, list[str]]]:
    response = await views.get("/views", bearer=bearer)
    assert response.status_code == 200, response.text
    return {
        v["name"]: {"columns": v["columns"], "omitted": v["omittedColumns"]}
        for v in response.json()["views"]
    }


async def test_the_listing_shows_each_role_only_what_it_may_read(views: ViewsClient) -> None:
    admin = await _listing(views, token("admin"))
    assert list(admin) == [
        "order_lines",
        "stock_levels",
        "shipments",
        "reconciliation",
        "order_process_insights",
        "sync_rule_insights",
    ]
    assert all(not v["omitted"] for v in admin.values())
    partner = await _listing(views, token("partner", partner="DHL"))
    assert list(partner) == ["shipments"]  # no orders, no stock levels
    assert partner["shipments"]["omitted"] == SHIPMENT_MONEY
    scoped = await _listing(views, CRM_ONLY)
    assert list(scoped) == ["order_lines"]
    assert scoped["order_lines"]["omitted"] == [
        "product_name",
        "available_stock",
        "first_shipment_carrier",
        "first_shipment_status",
    ]


async def test_unreadable_columns_are_omitted_and_named_in_a_header(views: ViewsClient) -> None:
    response = await views.get("/views/shipments.ndjson", bearer=token("partner", partner="DHL"))
    assert response.status_code == 200
    assert response.headers["Crossdock-Omitted-Columns"] == "value, currency"
    rows = ndjson(response)
    assert rows
    assert all(set(SHIPMENT_MONEY).isdisjoint(row) for row in rows)
    assert all(row["destination_country"] for row in rows)  # address:read holds


async def test_an_omitted_column_costs_no_backend_call(
    views: ViewsClient, scm_emulator: ErpEmulator
) -> None:
    response = await views.get("/views/order_lines.csv", bearer=CRM_ONLY)
    assert response.status_code == 200
    assert "product_name" in response.headers["Crossdock-Omitted-Columns"]
    header = response.text.split("\r\n", 1)[0].split(",")
    assert "sku" in header
    assert "product_name" not in header
    assert not [r for r in scm_emulator.stats.routes if "/Bin" in r or "/Item" in r]


async def test_a_partner_export_holds_only_the_partners_rows(views: ViewsClient) -> None:
    admin_rows = ndjson(await views.get("/views/shipments.ndjson", bearer=token("admin")))
    for carrier in ("DHL", "UPS"):
        bearer = token("partner", partner=carrier)
        rows = ndjson(await views.get("/views/shipments.ndjson", bearer=bearer))
        assert {row["carrier"] for row in rows} == {carrier}
        mine = [row["shipment"] for row in admin_rows if row["carrier"] == carrier]
        assert [row["shipment"] for row in rows] == mine


async def test_a_partner_without_a_partner_claim_gets_no_rows(views: ViewsClient) -> None:
    rows = ndjson(await views.get("/views/shipments.ndjson", bearer=token("partner")))
    assert rows == []


async def test_a_view_the_caller_may_not_read_is_not_found(views: ViewsClient) -> None:
    response = await views.get("/views/order_lines.csv", bearer=token("partner", partner="DHL"))
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["views"] == ["shipments"]


class TestErrorMode:
    """With `denied_columns = "error"`, an unreadable column refuses the export."""

    @pytest.fixture
    def view_options(self) -> ViewOptions:
        return ViewOptions(denied_columns="error")

    async def test_an_unreadable_column_is_403_naming_columns_and_scopes(
        self, views: ViewsClient
    ) -> None:
        response = await views.get("/views/shipments.csv", bearer=token("partner", partner="DHL"))
        assert response.status_code == 403
        error = response.json()["errors"][0]
        assert error["extensions"]["columns"] == SHIPMENT_MONEY
        assert error["extensions"]["scopes"] == ["crm:read", "finance:read"]
        assert (await views.get("/views/shipments.csv", bearer=token("admin"))).status_code == 200


CONTACTS = """
[views.contacts]
description = "Customers with their contact email (PII)."
connection = "customers"
page_size = 10
document = '''query Contacts($first: Int!, $after: String) {
  customers(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } nodes { id name email } } }'''
[views.contacts.columns]
customer_id = "id"
name = "name"
email = "email"
"""


class TestMasking:
    """A view with a masked field: the policy masks Customer.email for analysts."""

    @pytest.fixture
    def catalog(self) -> ViewCatalog:
        import tomllib

        return parse_view_catalog(tomllib.loads(CONTACTS))

    async def _emails(self, views: ViewsClient, role: str) -> list[str | None]:
        response = await views.get("/views/contacts.ndjson", bearer=token(role))
        assert response.status_code == 200, response.text
        rows = ndjson(response)
        return [row.get("email") for row in rows]

    async def test_admin_reads_emails_analyst_reads_them_masked(self, views: ViewsClient) -> None:
        plain = await self._emails(views, "admin")
        masked = await self._emails(views, "analyst")
        assert len(plain) == len(masked) > 10
        assert all("***" not in e for e in plain if e)
        for clear, hidden in zip(plain, masked, strict=True):
            if clear:
                local, domain = clear.split("@")
                assert hidden == f"{local[0]}***@{domain}"

    async def test_a_role_without_the_mask_does_not_get_the_column(
        self, views: ViewsClient
    ) -> None:
        response = await views.get("/views/contacts.csv", bearer=token("logistics"))
        assert response.headers["Crossdock-Omitted-Columns"] == "email"
        assert re.match(r"customer_id,name\r\n", response.text)


def _read(path: Path) -> str:
    return path.read_text("utf-8")


async def test_every_page_of_an_export_is_audited_like_a_graphql_request(
    views: ViewsClient, settings: Settings
) -> None:
    audit = Path(str(settings.policy.audit_log))
    response = await views.get("/views/shipments.ndjson", bearer=token("admin"))
    rows = ndjson(response)
    assert len(rows) > 100  # more than one page of 100
    entries = [json.loads(line) for line in _read(audit).splitlines()]
    pages = -(-len(rows) // 100)
    assert len(entries) == pages
    assert all("Shipment.destination" in e["fields"] for e in entries)
    assert {e["subject"] for e in entries} == {"test-admin"}
    assert all(e["operation"] == "Shipments" for e in entries)
