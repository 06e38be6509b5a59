"""A batched field's single-parent resolver is derived from its batch resolver, so graphql-core
(one parent at a time) and the batched executor (all parents at once) answer alike."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

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
    }


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
