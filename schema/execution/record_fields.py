"""Fields answered straight from the parent's canonical record, with no copy in between.

A schema object over a record (`Order` over `records.Order`) used to copy the record's
attributes into its own at construction: six keyword arguments per order, whether the query
selected them or not. A field declared with `from_record` reads `parent.record.<attribute>`
when it runs instead, so the object is built with nothing but its record.

    @readable
    @strawberry.type
    class Order:
        record: strawberry.Private[records.Order]
        number: str = from_record("number", "The order number people quote.")

`@readable` above `@strawberry.type` makes the same attributes readable on an instance.
For graphql-core (and when an extension's per-field hook must see the field) it is an
ordinary resolver; the batched executor reads the attribute path in one loop for the whole
batch, as it reads a plain attribute (`plans.plain_attribute`). The field keeps its place
among the annotated attributes, so the SDL does not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import attrgetter
from typing import Any, TypeVar

import strawberry

T = TypeVar("T", bound=type)

RECORD = "crossdock.record"  # the key of the record's attribute in a field's metadata


def from_record(attribute: str, description: str) -> Any:
    """A field whose value is the parent's `record.<attribute>`, as it is."""
    read = attrgetter(f"record.{attribute}")

    def resolve(root: Any) -> Any:
        return read(root)

    resolve.__name__ = attribute
    return strawberry.field(resolver=resolve, description=description, metadata={RECORD: attribute})


def readable(cls: T) -> T:
    """`obj.number` on an instance reads `obj.record.number`, for every `from_record` field
    of the strawberry type `cls`, as it read the copied attribute before: Python code that
    looks at a schema object (the access policy's row re-check, `row_visible`) sees the
    same values. Put it above `@strawberry.type`."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    for field in definition.fields:
        path = record_attribute(field.metadata)
        if path is not None:
            setattr(cls, field.python_name, property(attrgetter(path)))
    return cls


def record_attribute(metadata: Mapping[str, Any] | None) -> str | None:
    """The attribute path a `from_record` field reads of its parent (`record.number`)."""
    found = None if metadata is None else metadata.get(RECORD)
    return f"record.{found}" if isinstance(found, str) else None
