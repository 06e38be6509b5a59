"""Fields that answer for many parents at once, declared on the field itself.

A field's ordinary strawberry resolver answers for one parent; the batched executor calls it
once per parent. Where one call for every parent saves real work (one loader call instead of
one task per order, one prefetch decision instead of one per order), the field is declared
with its batch resolver: `function(parents, info) -> values`, one value per parent, in
order. A value may be an exception (that parent's field fails, alone) or an awaitable; the
whole result may be awaitable. `info` describes the field, with the first parent's path.

    async def order_shipments(orders: list[Order], info: Info) -> list[Any]:
        ...

    @strawberry.type
    class Order:
        ...
        @resolver("Grand total.")
        def total(self) -> Money: ...

        shipments = batched(order_shipments, "Shipments (SCM).", "list[Shipment] | None")

The field's type is given as `returns`, a type expression read in the batch resolver's module
(it may name a type defined further down), or, alternatively, as the attribute's annotation
(`shipments: list[Shipment] | None = batched(...)`). The two differ only in the field's place:
strawberry lists annotated attributes first and resolver methods after them, in class order;
a field declared with `returns` takes its place among the methods, where a field written as a
method stood, so the schema's field order (its SDL) need not change when a field is batched.

The field's single-parent resolver, which graphql-core calls when the executor is not
batched (or when an extension's per-field hook must see every field), is derived from the
batch one (`resolve_one`), so both executors answer alike by construction. The batched
executor finds the batch resolver in the field's metadata (`batch_of`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from inspect import isawaitable
from typing import Any

import strawberry

BatchResolver = Callable[[list[Any], Any], Any]

BATCH = "crossdock.batch"  # the key of the batch resolver in a field's metadata


def batched(batch: BatchResolver, description: str, returns: str | None = None) -> Any:
    """A field answered by `batch` for all its parents at once, of type `returns` (read in
    `batch`'s module), or, without it, of the type annotated on the attribute."""

    def resolve(root: Any, info: strawberry.Info) -> Any:
        return resolve_one(batch, root, info)

    resolve.__name__ = batch.__name__
    if returns is not None:  # strawberry reads a resolver's annotations in its module
        resolve.__module__ = batch.__module__
        resolve.__annotations__ = {"root": Any, "info": strawberry.Info, "return": returns}
    return strawberry.field(resolver=resolve, description=description, metadata={BATCH: batch})


def batch_of(metadata: Mapping[str, Any] | None) -> BatchResolver | None:
    """The batch resolver a field was declared with (its strawberry metadata), if any."""
    found = None if metadata is None else metadata.get(BATCH)
    return found if callable(found) else None


def each(resolve: Callable[[Any], Any], info: Any) -> Any:
    """`resolve(info)` for one parent of a batch, its exception as the value if it raised:
    a failure stays with its parent, as when the field is resolved one parent at a time."""
    try:
        return resolve(info)
    except Exception as error:
        return error


def resolve_one(batch: BatchResolver, parent: Any, info: Any) -> Any:
    """The field for one parent through its batch resolver: the value, raised where it
    failed; an awaitable (graphql-core awaits it) only where the batch's answer is one."""
    values = batch([parent], info)
    if isawaitable(values):
        return _first(values)
    return _value(values[0])


async def _first(values: Awaitable[list[Any]]) -> Any:
    value = _value((await values)[0])
    return await value if isawaitable(value) else value


def _value(value: Any) -> Any:
    if isinstance(value, Exception):
        raise value
    return value
