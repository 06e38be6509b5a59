"""Flattening: list paths fan out into rows, indices pick one element, nulls stay null."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from gateway.views.flatten import Flattener, dig, getter
from gateway.views.model import Column, View


def _view(rows: str, **columns: str) -> View:
    return View(
        name="t",
        description="",
        document="",
        connection="orders",
        rows=tuple(rows.split(".")) if rows else (),
        columns=tuple(Column(n, tuple(p.split("."))) for n, p in columns.items()),
    )


def _page(*nodes: Any) -> dict[str, Any]:
    return {"orders": {"nodes": list(nodes), "pageInfo": {"hasNextPage": False}}}


ORDER = {
    "number": "XD-1",
    "customer": {"name": "Acme"},
    "lines": [{"sku": "A", "qty": 1.0}, {"sku": "B", "qty": 2.5}],
    "shipments": [{"carrier": "DHL"}, {"carrier": "UPS"}],
}


def test_a_rows_path_gives_one_row_per_element_with_the_node_columns_repeated() -> None:
    view = _view("lines", number="number", name="customer.name", sku="lines.sku")
    rows = Flattener(view, view.columns).rows(_page(ORDER))
    assert rows == [("XD-1", "Acme", "A"), ("XD-1", "Acme", "B")]


def test_an_index_picks_one_element_and_a_missing_one_is_null() -> None:
    view = _view("", first="shipments.0.carrier", third="shipments.2.carrier")
    assert Flattener(view, view.columns).rows(_page(ORDER)) == [("DHL", None)]


def test_a_null_on_the_way_gives_a_null_cell_not_an_error() -> None:
    view = _view("lines", name="customer.name", sku="lines.sku")
    node = {**ORDER, "customer": None}
    assert Flattener(view, view.columns).rows(_page(node))[0] == (None, "A")


def test_a_node_without_rows_or_a_null_node_yields_no_row() -> None:
    view = _view("lines", number="number", sku="lines.sku")
    empty = {**ORDER, "lines": []}
    nulled = {**ORDER, "lines": None}
    assert Flattener(view, view.columns).rows(_page(empty, nulled, None)) == []


def test_only_the_given_columns_are_read_in_their_order() -> None:
    view = _view("lines", number="number", sku="lines.sku", qty="lines.qty")
    kept = (view.columns[2], view.columns[0])
    assert Flattener(view, kept).rows(_page(ORDER))[1] == (2.5, "XD-1")


def test_dig_stops_at_anything_that_is_not_a_mapping_or_list() -> None:
    assert dig({"a": "text"}, ["a", "b"]) is None
    assert dig({"a": [1]}, ["a", 0]) == 1
    assert dig({"a": {"0": 1}}, ["a", 0]) is None


# Each path is here for one way a compiled getter could part from `dig`.
GETTER_CASES = [
    ("number",),  # one key
    ("customer", "name"),  # two keys
    ("shipments", 0, "carrier"),  # an index on the way
    ("shipments", 5, "carrier"),  # an index past the end
    ("customer", "name", "x"),  # a key under text
    ("lines", "sku"),  # a key under a list
    ("missing", "name"),  # a missing object
    ("number", "x"),  # two keys where the first is text
]


@pytest.mark.parametrize("steps", GETTER_CASES)
@pytest.mark.parametrize("value", [ORDER, {**ORDER, "customer": None}, None, [], "text"])
def test_a_compiled_getter_reads_exactly_what_dig_reads(steps: tuple[Any, ...], value: Any) -> None:
    assert getter(steps)(value) == dig(value, steps)


def test_a_mapping_that_is_not_a_dict_is_still_read() -> None:
    node = MappingProxyType({"customer": MappingProxyType({"name": "Acme"})})
    assert getter(("customer", "name"))(node) == "Acme"
    assert getter(("customer",))(node) == {"name": "Acme"}
