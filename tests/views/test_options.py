"""Export options: the watermark's clock-skew margin, the CSV formula setting, and the
IDE's token exemption that must never reach an export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from gateway.auth import AuthError
from gateway.settings.section import SettingsError
from gateway.settings.views import ViewSettings, parse_views
from gateway.views import ViewOptions
from gateway.views.mount import context_factory, graphql_endpoint
from schema.scalars import parse_datetime
from tests.support.views import ViewsClient, token


@pytest.fixture
def view_options() -> ViewOptions:
    return ViewOptions(watermark_overlap_s=3600)


async def test_the_watermark_is_the_start_minus_the_configured_overlap(views: ViewsClient) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    response = await views.get("/views/shipments.csv", bearer=token("admin"), limit="1")
    watermark = parse_datetime(response.headers["Crossdock-Watermark"])
    after = datetime.now(UTC)
    assert before - timedelta(hours=1) <= watermark <= after - timedelta(hours=1)


def test_a_negative_overlap_is_refused() -> None:
    with pytest.raises(ValueError, match="watermark_overlap_s"):
        ViewOptions(watermark_overlap_s=-1)


def test_the_views_section_reads_the_formula_handling_and_the_overlap() -> None:
    assert parse_views({}, {}) == ViewSettings()
    assert ViewSettings().csv_formulas == "escape"
    parsed = parse_views({"csv_formulas": "keep", "watermark_overlap_s": 120}, {})
    assert (parsed.csv_formulas, parsed.watermark_overlap_s) == ("keep", 120)
    with pytest.raises(SettingsError, match="csv_formulas"):
        parse_views({"csv_formulas": "strip"}, {})
    with pytest.raises(SettingsError, match="watermark_overlap_s"):
        parse_views({"watermark_overlap_s": -5}, {})


async def test_an_export_request_asking_for_html_still_needs_a_token(views_app: Starlette) -> None:
    graphql = graphql_endpoint(views_app)
    assert graphql.graphql_ide is not None  # /graphql exempts a browser loading the IDE
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/views/order_lines.csv",
        "query_string": b"",
        "headers": [(b"accept", b"text/html,application/xhtml+xml")],
        "client": ("127.0.0.1", 50000),
    }
    with pytest.raises(AuthError):
        await context_factory(graphql)(Request(scope))
