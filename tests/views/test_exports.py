"""The exports over HTTP: same values as /graphql, RFC 4180 CSV, NDJSON, headers, bad input."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.protection.ratelimit import Rate
from gateway.settings import Settings
from gateway.settings.hardening import RateLimitSettings
from gateway.views import ViewCatalog
from gateway.views.encode import csv_cell, defuse_formula
from tests.support.stack import gateway_settings
from tests.support.views import ViewsClient, csv_rows, ndjson, token

ADMIN = token("admin")


async def _all_nodes(views: ViewsClient, catalog: ViewCatalog, name: str) -> list[dict[str, Any]]:
    """Every node of a view's document, paged through /graphql exactly as a client would."""
    view = catalog.get(name)
    assert view is not None
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        data = await views.graphql(ADMIN, view.document, first=view.page_size, after=after)
        connection = data[view.connection]
        nodes += connection["nodes"]
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]


def _order_lines(node: dict[str, Any]) -> list[dict[str, Any]]:
    first = (node["shipments"] or [None])[0] or {}
    customer = node["customer"] or {}
    return [
        {
            "order_number": node["number"],
            "status": node["status"],
            "placed_at": node["placedAt"],
            "customer_id": customer.get("id"),
            "customer_name": customer.get("name"),
            "customer_industry": customer.get("industry"),
            "sku": line["sku"],
            "product_name": (line["product"] or {}).get("name"),
            "quantity": line["quantity"],
            "unit_price": line["unitPrice"]["amount"],
            "line_total": line["total"]["amount"],
            "currency": line["unitPrice"]["currency"],
            "available_stock": (line["product"] or {}).get("available"),
            "fulfillment": node["fulfillment"],
            "first_shipment_carrier": first.get("carrier"),
            "first_shipment_status": first.get("status"),
        }
        for line in node["lines"]
    ]


def _stock_levels(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "sku": node["sku"],
            "product": node["name"],
            "warehouse": level["warehouse"]["name"],
            "on_hand": level["onHand"],
            "reserved": level["reserved"],
            "available": level["available"],
            "projected": level["projected"],
        }
        for level in node["stock"] or []
    ]


def _shipments(node: dict[str, Any]) -> list[dict[str, Any]]:
    destination, value = node["destination"] or {}, node["value"] or {}
    return [
        {
            "shipment": node["id"],
            "order_number": node["orderNumber"],
            "carrier": node["carrier"],
            "status": node["status"],
            "tracking_number": node["trackingNumber"],
            "pickup_date": node["pickupDate"],
            "destination_city": destination.get("city"),
            "destination_country": destination.get("country"),
            "value": value.get("amount"),
            "currency": value.get("currency"),
        }
    ]


# Each shipped view's rows, written out by hand from the GraphQL result: an independent oracle.
EXPECTED: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
    "order_lines": _order_lines,
    "stock_levels": _stock_levels,
    "shipments": _shipments,
}


async def _expected_rows(
    views: ViewsClient, catalog: ViewCatalog, name: str
) -> list[dict[str, Any]]:
    """The view's rows as built by hand from the same query's nodes through /graphql."""
    nodes = await _all_nodes(views, catalog, name)
    return [row for node in nodes for row in EXPECTED[name](node)]


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_ndjson_rows_equal_the_same_query_through_graphql(
    views: ViewsClient, catalog: ViewCatalog, name: str
) -> None:
    expected = await _expected_rows(views, catalog, name)
    response = await views.get(f"/views/{name}.ndjson", bearer=ADMIN)
    assert response.status_code == 200, response.text
    rows = ndjson(response)  # every line a row: the watermark is only in the header
    assert rows == expected
    assert len(rows) > 20  # the seed gives every view more than a page of rows
    assert response.headers["Crossdock-Watermark"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_csv_parses_back_to_the_same_values_as_graphql(
    views: ViewsClient, catalog: ViewCatalog, name: str
) -> None:
    expected = await _expected_rows(views, catalog, name)
    response = await views.get(f"/views/{name}.csv", bearer=ADMIN)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv; charset=utf-8")
    records = csv_rows(response)
    assert records[0] == list(expected[0])
    assert records[1:] == [[defuse_formula(csv_cell(v)) for v in row.values()] for row in expected]
    assert b"\r\n" in response.content
    assert b"\n" not in response.content.replace(b"\r\n", b"")


async def test_decimals_and_timestamps_keep_their_canonical_text(views: ViewsClient) -> None:
    response = await views.get("/views/order_lines.csv", bearer=ADMIN, limit="50")
    header, *rows = csv_rows(response)
    record = dict(zip(header, rows[0], strict=True))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", record["placed_at"])
    assert re.fullmatch(r"-?\d+\.\d{2}", record["unit_price"])
    assert all(row[header.index("currency")] for row in rows)


async def test_an_export_is_an_attachment_with_the_view_name_and_watermark(
    views: ViewsClient,
) -> None:
    response = await views.get("/views/shipments.csv", bearer=ADMIN, limit="3")
    watermark = response.headers["Crossdock-Watermark"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", watermark)
    stamp = watermark.replace("-", "").replace(":", "")
    disposition = f'attachment; filename="shipments-{stamp}.csv"'
    assert response.headers["Content-Disposition"] == disposition
    assert "Crossdock-Omitted-Columns" not in response.headers


async def test_limit_caps_the_rows(views: ViewsClient) -> None:
    response = await views.get("/views/order_lines.ndjson", bearer=ADMIN, limit="7")
    assert len(ndjson(response)) == 7


async def test_an_unknown_view_is_404_listing_the_views_the_caller_may_read(
    views: ViewsClient,
) -> None:
    response = await views.get("/views/orders_by_moon.csv", bearer=token("partner"))
    assert response.status_code == 404
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "NOT_FOUND", "views": ["shipments"]}
    assert "Views you may read: shipments." in error["message"]


@pytest.mark.parametrize("path", ["/views/shipments.xlsx", "/views/shipments.json"])
async def test_an_unsupported_format_is_406_naming_the_formats(
    views: ViewsClient, path: str
) -> None:
    response = await views.get(path, bearer=ADMIN)
    assert response.status_code == 406
    assert response.json()["errors"][0]["extensions"]["formats"] == ["csv", "ndjson", "parquet"]


async def test_without_an_extension_the_accept_header_chooses_the_format(
    views: ViewsClient,
) -> None:
    headers = {"Authorization": f"Bearer {ADMIN}", "Accept": "application/x-ndjson"}
    response = await views.http.get("/views/shipments", params={"limit": 2}, headers=headers)
    assert response.headers["content-type"] == "application/x-ndjson"
    headers["Accept"] = "text/html"
    refused = await views.http.get("/views/shipments", headers=headers)
    assert refused.status_code == 406, refused.text


@pytest.mark.parametrize(
    ("params", "argument"),
    [
        ({"updated_since": "yesterday"}, "updated_since"),  # not RFC 3339
        ({"updated_since": "2026-03-01T10:00:00"}, "updated_since"),  # no offset: ambiguous
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"since": "2026-03-01T10:00:00Z"}, "since"),  # a typo is named, not ignored
    ],
)
async def test_bad_parameters_are_400_naming_the_parameter(
    views: ViewsClient, params: dict[str, str], argument: str
) -> None:
    response = await views.get("/views/order_lines.csv", bearer=ADMIN, **params)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument
    assert argument in error["message"]


@pytest.mark.parametrize("path", ["/views", "/views/order_lines.csv"])
async def test_views_need_a_bearer_token(views: ViewsClient, path: str) -> None:
    response = await views.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    forged = await views.get(path, bearer=ADMIN[:-4] + "AAAA")
    assert forged.status_code == 401


async def test_a_snapshot_view_refuses_updated_since(views: ViewsClient) -> None:
    listing = (await views.get("/views", bearer=ADMIN)).json()["views"]
    assert {v["name"]: v["incremental"] for v in listing} == {
        "order_lines": True,
        "stock_levels": False,
        "shipments": True,  # ERPNext's `modified` filter on Shipment
        "reconciliation": False,  # the last run's findings
        "order_process_insights": True,  # updated_since: the window's start
        "sync_rule_insights": True,
    }
    since = "2026-01-01T00:00:00Z"
    response = await views.get("/views/stock_levels.csv", bearer=ADMIN, updated_since=since)
    assert response.status_code == 400
    assert "not incremental" in response.json()["errors"][0]["message"]


class TestRateLimits:
    """An export is one request to the rate limiter, however many pages it reads."""

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        slow = RateLimitSettings(default=Rate(per_second=0.001, burst=2))
        return dataclasses.replace(gateway_settings(tmp_path), rate_limits=slow)

    async def test_a_many_page_export_takes_one_token_and_the_next_is_429(
        self, views: ViewsClient
    ) -> None:
        for _ in range(2):  # six backend pages each
            ok = await views.get("/views/order_lines.ndjson", bearer=ADMIN)
            assert ok.status_code == 200
            assert len(ndjson(ok)) > 600
        refused = await views.get("/views/order_lines.ndjson", bearer=ADMIN)
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert "Retry-After" in refused.headers
