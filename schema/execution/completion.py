"""Completing one field of a batch: the spec's CompleteValue, for every parent in one loop.

Leaves that already are what their scalar returns (str for String and ID, bool, finite
float) are stored as they are; other leaves go through the type's `coerce_output_value`.
Objects join the next batch with a `Position`; lists complete element by element. Every
failure becomes a located error at its position (`fail`), nulling the nearest nullable
position above it as the spec's error propagation asks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, located_error
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, is_iterable

from schema.execution.plans import DELEGATE, LEAF, LIST, OBJECT, FieldPlan, Shape
from schema.execution.tree import ROOT, Batch, Position

if TYPE_CHECKING:
    from schema.execution.state import ExecutionState

SEQUENCES = (list, tuple)  # iterable, and neither strings nor mappings


class FieldCompletion:
    """One field of one batch: its values (one per parent), completed into the results."""

    __slots__ = (
        "batch",
        "children",
        "details",
        "executor",
        "key",
        "nodes",
        "pending",
        "plan",
        "values",
    )

    def __init__(
        self,
        executor: ExecutionState,
        batch: Batch,
        key: str,
        field_details: FieldDetailsList,
        plan: FieldPlan,
    ) -> None:
        self.executor = executor
        self.batch = batch
        self.key = key
        self.details = field_details
        self.nodes = [details.node for details in field_details]
        self.plan = plan
        self.values: list[Any] = []
        self.pending: Awaitable[Any] | None = None  # a batch resolver's awaitable result
        shape = plan.shape
        while shape.kind == LIST:
            assert shape.item is not None
            shape = shape.item
        self.children = (
            Batch(shape.object_type, field_details)
            if shape.kind == OBJECT and shape.object_type is not None
            else None
        )

    def path(self, index: int) -> Path:
        return Path(self.batch.positions[index].path, self.key, self.batch.object_type.name)

    # -- completion -------------------------------------------------------------------

    def complete(self) -> None:
        """Complete every parent's value into its result dict (objects join `children`)."""
        results, key, shape, values = self.batch.results, self.key, self.plan.shape, self.values
        if shape.kind == DELEGATE:  # graphql-core completed (or failed) each value already
            for index, value in enumerate(values):
                if isinstance(value, Exception):
                    self.fail(index, value)
                else:
                    results[index][key] = value
        elif shape.kind == LEAF:
            exact, floats = shape.exact, shape.exact is None and shape.finite_floats
            coerce = shape.coerce
            assert coerce is not None
            for index, value in enumerate(values):
                kind = type(value)
                # Shape.leaf's pass-through test, inlined: this is the hot loop
                if kind is exact or (floats and kind is float and value - value == 0.0):
                    results[index][key] = value
                elif value is None or isinstance(value, Exception):
                    self.slow(index, value)
                else:
                    try:
                        results[index][key] = coerce(value)
                    except Exception as error:
                        self.fail(index, error)
        elif shape.kind == OBJECT:
            assert self.children is not None
            add, positions = self.children.add, self.batch.positions
            nullable, typename = not shape.non_null, self.batch.object_type.name
            for index, value in enumerate(values):
                if value is None or isinstance(value, Exception):
                    self.slow(index, value)
                else:
                    result = results[index]
                    position = Position((result, key, nullable, positions[index], typename))
                    result[key] = add(value, position)
        else:
            for index, value in enumerate(values):
                self.slow(index, value)

    def slow(self, index: int, value: Any) -> None:
        if isinstance(value, Exception):  # a failed resolver: handled, never raised again
            self.fail(index, value)  # (raising a shared exception grows its traceback)
            return
        try:
            self.batch.results[index][self.key] = self.top(index, value)
        except Exception as error:  # a field error: null it here or above, say where
            self.fail(index, error)

    def top(self, index: int, value: Any) -> Any:
        """The field's completed value for one parent (raises a field error)."""
        batch = self.batch
        return self.value(
            self.plan.shape,
            value,
            batch.results[index],
            self.key,
            batch.positions[index],
            batch.object_type.name,
        )

    def value(
        self,
        shape: Shape,
        value: Any,
        container: Any,
        key: str | int,
        owner: Position,
        typename: str | None,
    ) -> Any:
        """The spec's CompleteValue for one position: `container[key]`, below `owner`."""
        if value is None:
            if shape.non_null:
                raise TypeError(self.null_message())
            return None
        if shape.kind == LEAF:
            return shape.leaf(value)
        position = Position((container, key, not shape.non_null, owner, typename))
        if shape.kind == OBJECT:
            assert self.children is not None
            return self.children.add(value, position)
        return self.items(shape, value, position)

    def items(self, shape: Shape, value: Any, here: Position) -> list[Any]:
        """A list's elements completed; objects join `children` unless the list fails."""
        # graphql-core's test (no strings, no mappings), after the common case: its ABC
        # checks were 1 % of the CPU of the peer's W2
        if type(value) not in SEQUENCES and not is_iterable(value):
            raise GraphQLError(
                "Expected Iterable, but did not find one for field"
                f" '{self.batch.object_type.name}.{self.nodes[0].name.value}'."
            )
        item = shape.item
        assert item is not None
        completed: list[Any] = []
        children = self.children
        mark = len(children.sources) if children is not None else 0
        try:
            if item.kind == OBJECT and children is not None:
                self.objects(item, value, completed, here)
            else:
                for index, element in enumerate(value):
                    completed.append(self.item(item, element, completed, index, here))
        except Exception:
            if children is not None:  # the list is nulled: its objects never run
                children.truncate(mark)
            raise
        return completed

    def objects(self, item: Shape, value: Iterable[Any], into: list[Any], here: Position) -> None:
        """A list of objects: each joins the next batch (a null or error takes `item`)."""
        assert self.children is not None
        add, nullable, append = self.children.add, not item.non_null, into.append
        for index, element in enumerate(value):
            if element is None or isinstance(element, Exception):
                append(self.item(item, element, into, index, here))
            else:
                append(add(element, Position((into, index, nullable, here, None))))

    def item(self, shape: Shape, value: Any, into: list[Any], index: int, owner: Position) -> Any:
        """One list element, with graphql-core's per-item error handling."""
        if isinstance(value, Exception):
            return self.item_error(shape, value, index, owner)
        try:
            return self.value(shape, value, into, index, owner, None)
        except Exception as raw:
            return self.item_error(shape, raw, index, owner)

    def item_error(self, shape: Shape, raw: Exception, index: int, owner: Position) -> None:
        """A list element failed: null it, or raise (located) to null the list above."""
        path = Path(owner.path, index, None)
        error = located_error(raw, self.nodes, path.as_list())
        if shape.non_null and self.executor.error_propagation:
            raise error from None
        self.executor.collected_errors.add(error, path)

    def null_message(self) -> str:
        field = self.nodes[0].name.value
        return f"Cannot return null for non-nullable field {self.batch.object_type.name}.{field}."

    def fail(self, index: int, raw: Exception) -> None:
        """A field error at `index`: null the field, or the nearest nullable position above."""
        path = self.path(index)
        error = located_error(raw, self.nodes, path.as_list())
        results = self.batch.results
        executor = self.executor
        if not self.plan.shape.non_null or not executor.error_propagation:
            results[index][self.key] = None
            executor.collected_errors.add(error, path)
            return
        results[index][self.key] = None
        position: Position | None = self.batch.positions[index]
        while position is not None and position is not ROOT:
            if position.nullable:
                position.container[position.key] = None
                position.dead = True
                executor.nullings += 1
                executor.collected_errors.add(error, position.path)
                return
            position = position.parent
        executor.data_nulled = True
        executor.nullings += 1
        executor.collected_errors.add(error, None)
