"""Views are configuration, checked at startup: a bad view names the view, column and path."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLSchema

from gateway.protection.limits import Limits
from gateway.settings.hardening import parse_limits
from gateway.views import ViewCatalog, ViewConfigError, check_views, load_views, parse_view_catalog
from schema.build import build_schema

DOCUMENT = """
query Orders($first: Int!, $after: String) {
  orders(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { number customer { name } lines { sku } shipments { carrier } }
  }
}
"""


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


def _catalog(**overrides: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "description": "test",
        "connection": "orders",
        "rows": "lines",
        "document": DOCUMENT,
        "columns": {"number": "number", "sku": "lines.sku"},
    }
    view.update(overrides)
    return {"views": {"orders_test": view}}


def _error(schema: GraphQLSchema, **overrides: Any) -> str:
    with pytest.raises(ViewConfigError) as caught:
        check_views(parse_view_catalog(_catalog(**overrides)), schema)
    return str(caught.value)


def test_a_well_formed_view_passes(schema: GraphQLSchema) -> None:
    check_views(parse_view_catalog(_catalog()), schema)


def test_the_shipped_views_parse_with_the_columns_the_issue_lists() -> None:
    catalog = load_views(None)
    assert [v.name for v in catalog] == [
        "order_lines",
        "stock_levels",
        "shipments",
        "reconciliation",
        "order_process_insights",
        "sync_rule_insights",
    ]
    columns = {v.name: [c.name for c in v.columns] for v in catalog}
    assert columns["stock_levels"] == [
        "sku", "product", "warehouse", "on_hand", "reserved", "available", "projected"
    ]  # fmt: skip
    assert "first_shipment_carrier" in columns["order_lines"]
    assert "destination_country" in columns["shipments"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # a typo in a column path names view, column and path
        (
            {"columns": {"sku": "lines.skew"}},
            "view 'orders_test', column 'sku': path 'lines.skew': 'skew' is not selected",
        ),
        # a list outside the rows path must be indexed
        ({"columns": {"carrier": "shipments.carrier"}}, "'shipments' is a list; pick an element"),
        # a column must end at a scalar
        ({"columns": {"customer": "customer"}}, "ends at an object"),
        # an index on something that is not a list
        ({"columns": {"x": "customer.0.name"}}, "indexes something not a list"),
        # rows must name a list
        ({"rows": "customer"}, "rows must name a list of objects"),
        # the connection must be a selected root connection
        ({"connection": "shipments"}, "connection 'shipments' is not a root field selected"),
        # the document must be valid against the schema
        ({"document": DOCUMENT.replace("number", "numbr")}, "Cannot query field 'numbr'"),
        # paging variables are required
        (
            {"document": DOCUMENT.replace("$after: String", "").replace("after: $after", "")},
            "must declare $after",
        ),
        # pageInfo must be selected to page
        (
            {"document": DOCUMENT.replace("pageInfo { hasNextPage endCursor }", "")},
            "pageInfo { hasNextPage endCursor }",
        ),
    ],
)
def test_a_bad_view_is_a_startup_error_that_says_what_to_fix(
    schema: GraphQLSchema, overrides: dict[str, Any], expected: str
) -> None:
    assert expected in _error(schema, **overrides)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"views": {"x": {"connection": "orders"}}}, "document is missing"),  # no document
        ({"views": {"Bad-Name": {}}}, "snake_case"),  # names become file names
        ({"views": {"x": {"colums": {}}}}, "unknown keys ['colums']"),  # typos are errors
        ({"view": {}}, "unknown top-level keys ['view']"),
        (_catalog(columns={"a": "lines..sku"}), "bad segment ''"),
        (_catalog(page_size=0), "page_size must be an integer >= 1"),
    ],
)
def test_a_malformed_views_file_is_refused_when_parsed(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(ViewConfigError) as caught:
        parse_view_catalog(data)
    assert expected in str(caught.value)


def test_a_view_whose_page_the_operation_limits_refuse_fails_at_startup(
    schema: GraphQLSchema,
) -> None:
    catalog = parse_view_catalog(_catalog(page_size=200))
    with pytest.raises(ViewConfigError, match="a page of 200 breaks the operation limits"):
        check_views(catalog, schema, limits=Limits(max_cost=1000))
    check_views(catalog, schema, limits=Limits(max_cost=100_000))


def test_the_shipped_views_are_valid_within_the_limits_the_gateway_enforces_by_default(
    schema: GraphQLSchema,
) -> None:
    # The limits `crossdock serve` enforces without a [limits] table (what wiring passes to
    # mount_views), not the bare `Limits()` dataclass.
    enforced = parse_limits({}, {}).default
    check_views(load_views(None), schema, limits=enforced)


def test_the_order_lines_page_breaks_a_cost_limit_below_its_estimate(
    schema: GraphQLSchema,
) -> None:
    # 200 orders at ~254 each (lines counted 20 per order): an operator who lowers
    # max_cost below that learns it at startup, with the view and the fix named.
    catalog = load_views(None)
    order_lines = ViewCatalog({"order_lines": catalog.views["order_lines"]})
    with pytest.raises(ViewConfigError, match="'order_lines': a page of 200 breaks"):
        check_views(order_lines, schema, limits=Limits(max_cost=50_000))
    check_views(order_lines, schema, limits=Limits(max_cost=51_000))


def test_a_missing_views_file_names_the_path(tmp_path: Any) -> None:
    with pytest.raises(ViewConfigError, match="cannot be read"):
        load_views(tmp_path / "nope.toml")
