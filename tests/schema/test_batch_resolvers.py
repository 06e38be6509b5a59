"""A batched field's single-parent resolver is derived from its batch resolver, so graphql-core
(one parent at a time) and the batched executor (all parents at once) answer alike."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSchema

from schema.build import build_schema
from schema.execution.batch_resolvers import BATCH, batch_of, batched, resolve_one


def doubled(parents: list[int], info: Any) -> list[Any]:
    return [ValueError("odd") if p % 2 else p * 2 for p in parents]


async def doubled_later(parents: list[int], info: Any) -> list[Any]:
    return doubled(parents, info)


async def test_one_parent_gets_its_value_or_its_error_sync_or_awaited() -> None:
    assert resolve_one(doubled, 2, None) == 4
    assert await resolve_one(doubled_later, 2, None) == 4
    with pytest.raises(ValueError, match="odd"):
        resolve_one(doubled, 3, None)
    with pytest.raises(ValueError, match="odd"):
        await resolve_one(doubled_later, 3, None)


def test_every_batched_field_of_the_graph_declares_its_batch_on_the_field() -> None:
    graph = build_schema()._schema
    declared = {
        f"{name}.{field_name}"
        for name, named in graph.type_map.items()
        for field_name, field in getattr(named, "fields", {}).items()
        if batch_of(getattr(field.extensions.get("strawberry-definition"), "metadata", None))
    }
    assert declared == {
        "Order.lines",
        "Order.customer",
        "Order.shipments",
        "Order.fulfillment",
        "OrderLine.product",
        "Product.stock",
        "Product.available",
        "StockLevel.warehouse",
        "StockLevel.reorderLevel",
        "StockLevel.reorderQuantity",
        "StockLevel.belowReorderLevel",
        # read when selected: Bin quantities converted, cursors signed (docs/performance.md)
        "StockLevel.onHand",
        "StockLevel.reserved",
        "StockLevel.available",
        "StockLevel.projected",
        *(f"{node}Edge.cursor" for node in CONNECTIONS),
    }


CONNECTIONS = (
    "Customer",
    "Order",
    "OrderProcessStat",
    "Product",
    "ReconciliationFinding",
    "Shipment",
    "SyncRuleInsight",
)


def twice(things: list[Thing], info: Any) -> list[Any]:
    return doubled([t.n for t in things], info)


@strawberry.type
class Thing:
    n: int
    twice: int | None = batched(twice, "2n, or an error for an odd n")


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [Thing(n=2), Thing(n=3)]


async def test_a_declared_field_answers_through_its_batch_in_plain_graphql_core() -> None:
    result = await strawberry.Schema(Query).execute("{ things { n twice } }")
    assert result.data == {"things": [{"n": 2, "twice": 4}, {"n": 3, "twice": None}]}
    assert result.errors is not None
    assert [e.message for e in result.errors] == ["odd"]
    (field,) = [f for f in Thing.__strawberry_definition__.fields if f.name == "twice"]
    assert field.metadata[BATCH] is twice  # where the batched executor finds it


def triple_all(parents: list[Later], info: Any) -> list[Any]:
    return [Box(n=p.n * 3) for p in parents]


@strawberry.type
class Later:
    n: int

    @strawberry.field
    def first(self) -> int:
        return self.n

    tripled = batched(triple_all, "3n, boxed", "Box")  # Box is defined below: read lazily

    @strawberry.field
    def last(self) -> int:
        return -self.n


@strawberry.type
class Box:
    n: int


@strawberry.type
class LaterQuery:
    @strawberry.field
    def later(self) -> Later:
        return Later(n=2)


async def test_a_field_typed_by_returns_keeps_its_place_among_the_methods() -> None:
    schema = strawberry.Schema(LaterQuery)
    assert field_names(schema._schema, "Later") == ["n", "first", "tripled", "last"]
    result = await schema.execute("{ later { tripled { n } last } }")
    assert result.data == {"later": {"tripled": {"n": 6}, "last": -2}}


def field_names(schema: GraphQLSchema, type_name: str) -> list[str]:
    named = schema.type_map[type_name]
    assert isinstance(named, GraphQLObjectType)
    return list(named.fields)


def test_the_graph_keeps_the_field_order_it_had_before_fields_were_batched() -> None:
    """The SDL is a contract down to its order: batched fields stand where their methods stood."""
    graph = build_schema()._schema
    assert field_names(graph, "Order")[5:] == [
        "subtotal",
        "tax",
        "total",
        "lines",
        "customer",
        "shipments",
        "fulfillment",
    ]
    assert field_names(graph, "OrderLine") == ["sku", "quantity", "unitPrice", "total", "product"]
    assert field_names(graph, "Product")[-2:] == ["stock", "available"]
