"""What the schema computes only when a query selects it, and the executor's enum memo.

An `Order` is built over its record alone: its plain fields read the record (`from_record`).

Edge cursors are signed when `cursor` is selected (a page read through `nodes` signs only
its `endCursor`), a Bin's quantities are converted to floats per selected field, and an
enum member's output name is asked of its type once. The answers are those of before:
the differential test (`test_execution_equivalence.py`) holds the whole graph to that;
these count the work.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from graphql import GraphQLObjectType

from resolvers import records
from schema.build import build_schema
from schema.connections import Window, edge_cursors, from_list, paginate
from schema.cursor_key import CursorKey
from schema.execution.field_run import attributes
from schema.execution.plans import Plans, by_member
from schema.orders import EPOCH, Order
from schema.products import StockLevel, bin_quantity


class CountingKey(CursorKey):
    """A cursor key that counts the cursors it seals."""

    def __init__(self) -> None:
        super().__init__(b"k" * 32)
        self.sealed = 0

    def seal(self, binding: str, position: dict[str, Any]) -> str:
        self.sealed += 1
        return super().seal(binding, position)


def test_a_page_signs_only_its_end_cursor_until_edge_cursors_are_read() -> None:
    key = CountingKey()
    win = Window(key, "Query.orders|{}", first=3, source=None, offset=0)
    page = from_list(win, ["a", "b", "c", "d"], str.upper)
    assert page.nodes == ["A", "B", "C"]
    assert key.sealed == 1  # pageInfo.endCursor
    cursors = edge_cursors(page.edges, None)
    assert key.sealed == 4
    assert cursors == [win.cursor(None, n) for n in (1, 2, 3)]
    assert page.page_info.end_cursor == cursors[-1]
    assert page.page_info.has_next_page


def test_the_last_edge_of_a_full_page_carries_the_next_page_cursor() -> None:
    key = CountingKey()
    win = Window(key, "Query.orders|{}", first=2, source="p1", offset=1)

    async def fetch(size: int, source: str | None) -> records.Page[str]:
        assert (size, source) == (3, "p1")
        return records.Page(items=("a", "b", "c"), next_cursor="p2")

    page = asyncio.run(paginate(win, fetch, str.upper))
    assert [edge.node for edge in page.edges] == ["B", "C"]
    cursors = edge_cursors(page.edges, None)
    assert cursors == [win.cursor("p1", 2), win.cursor("p2", 0)]
    assert page.page_info.end_cursor == cursors[-1]


def test_bin_quantities_are_converted_per_selected_field() -> None:
    level = StockLevel.of(
        records.StockLevel(
            sku="S",
            warehouse_id="W",
            on_hand=Decimal("5.5"),
            reserved=Decimal("2"),
            available=Decimal("3.5"),
            projected=Decimal("-1"),
        )
    )
    assert bin_quantity("on_hand")([level], None) == [5.5]
    assert bin_quantity("projected")([level, level], None) == [-1.0, -1.0]
    assert all(type(q) is float for q in bin_quantity("reserved")([level], None))


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


def test_an_enum_member_is_named_once_and_other_values_every_time() -> None:
    asked: list[Any] = []

    def coerce(value: Any) -> Any:
        asked.append(value)
        if value == "bad":
            raise ValueError("not a colour")
        return value.name if isinstance(value, Colour) else str(value)

    complete = by_member(coerce)
    assert [complete(Colour.RED), complete(Colour.RED), complete(Colour.BLUE)] == [
        "RED",
        "RED",
        "BLUE",
    ]
    assert complete("RED") == complete("RED") == "RED"
    assert asked == [Colour.RED, Colour.BLUE, "RED", "RED"]
    for _ in range(2):
        with pytest.raises(ValueError, match="not a colour"):
            complete("bad")
    assert asked.count("bad") == 2


def test_an_order_is_its_record_and_its_fields_read_the_record() -> None:
    record = records.Order(
        id="o1",
        number="SO-1",
        status=records.OrderStatus.APPROVED,
        customer_id=None,
        customer_name=None,
        lines=(),
        subtotal=records.Money(Decimal(1), "EUR"),
        tax=records.Money(Decimal(0), "EUR"),
        total=records.Money(Decimal(1), "EUR"),
        placed_at=EPOCH,
        updated_at=EPOCH,
    )
    order = Order.of(record)
    assert (order.id, order.number, order.status) == ("o1", "SO-1", record.status)
    graph = build_schema()._schema
    order_type = graph.type_map["Order"]
    assert isinstance(order_type, GraphQLObjectType)
    plans = Plans()
    for name, attribute in (("id", "o1"), ("number", "SO-1"), ("placedAt", EPOCH)):
        plan = plans.field(order_type, name, order_type.fields[name])
        assert plan.attribute == f"record.{plan.definition.python_name}"
        assert attributes([order, order], plan.attribute) == [attribute, attribute]
        assert order_type.fields[name].resolve is not None
