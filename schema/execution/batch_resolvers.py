"""Resolvers that answer a field for many parents at once, for the batched executor.

A field's ordinary strawberry resolver answers for one parent; the batched executor calls it
once per parent. Where one call for every parent saves real work (one loader call instead of
one task per order, one prefetch decision instead of one per order), a module registers a
batch resolver for the field: `function(parents, info) -> values`, one value per parent, in
order. A value may be an exception (that parent's field fails, alone) or an awaitable; the
whole result may be awaitable. `info` describes the field, with the first parent's path.

    @batch_resolver("Order", "shipments")
    async def order_shipments(orders: list[Order], info: Info) -> list[Any]:
        ...

The ordinary resolver stays the field's definition (graphql-core calls it when the executor
is not batched, or when an extension's per-field hook must see every field), so the two must
answer alike: the usual way is for the ordinary resolver to call the batch one with `[self]`.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import isawaitable
from typing import Any, TypeVar

BatchResolver = Callable[[list[Any], Any], Any]
F = TypeVar("F", bound=BatchResolver)

_REGISTERED: dict[tuple[str, str], BatchResolver] = {}


def batch_resolver(type_name: str, field_name: str) -> Callable[[F], F]:
    """Register `function` as the batch resolver of `type_name.field_name` (GraphQL names)."""

    def register(function: F) -> F:
        _REGISTERED[(type_name, field_name)] = function
        return function

    return register


def batch_resolver_for(type_name: str, field_name: str) -> BatchResolver | None:
    return _REGISTERED.get((type_name, field_name))


def each(resolve: Callable[[Any], Any], info: Any) -> Any:
    """`resolve(info)` for one parent of a batch, its exception as the value if it raised:
    a failure stays with its parent, as when the field is resolved one parent at a time."""
    try:
        return resolve(info)
    except Exception as error:
        return error


async def resolve_one(resolver: BatchResolver, parent: Any, info: Any) -> Any:
    """The field for one parent through its batch resolver (the ordinary resolver's body):
    awaited where awaitable, raised where it failed."""
    values = resolver([parent], info)
    if isawaitable(values):
        values = await values
    value = values[0]
    if isawaitable(value):
        value = await value
    if isinstance(value, Exception):
        raise value
    return value
