"""One field of one batch: resolved for every parent object, then completed into results.

Resolution reads a plain attribute in one loop, calls a batch resolver once, calls a simple
resolver directly, or goes through the field's strawberry resolver (and the extensions'
per-field hooks, when the operation needs them) with a full `info` per object. Completion
is `completion.FieldCompletion`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from operator import attrgetter
from types import GeneratorType
from typing import TYPE_CHECKING, Any

from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.values import get_argument_values

from schema.execution.batch_resolvers import BatchResolver
from schema.execution.completion import FieldCompletion
from schema.execution.plans import DELEGATE, LIST, Direct, FieldPlan, Shape

if TYPE_CHECKING:
    from schema.execution.state import ExecutionState


class FieldRun(FieldCompletion):
    """One field of one batch: resolved for every object, then completed into its results."""

    __slots__ = ()

    # -- resolution -------------------------------------------------------------------

    def resolve(self) -> list[int]:
        """Every object's value for this field; the indexes whose value is still awaitable."""
        executor, plan, sources = self.executor, self.plan, self.batch.sources
        hooked = executor.hooked(self.batch.object_type, self.nodes[0].name.value, plan.field_def)
        if plan.shape.kind == DELEGATE:  # first: graphql-core completes what it resolves
            return self.delegate()
        if plan.attribute is not None and not hooked:
            self.values = attributes(sources, plan.attribute)
            return []
        if plan.batch is not None and not hooked:
            return self.batched(plan.batch)
        if plan.direct is not None and not hooked:
            return self.call(plan.direct)
        try:
            args = argument_values(executor, plan, self.details)
        except Exception as error:  # bad arguments fail the field on every object
            self.values = [error] * len(sources)
            return []
        resolve = executor.resolver_for(plan.field_def, hooked)
        build = executor.build_resolve_info
        field_def, nodes, parent_type = plan.field_def, self.nodes, self.batch.object_type
        return self.each(
            lambda index, source: resolve(
                source, build(field_def, nodes, parent_type, self.path(index)), **args
            )
        )

    def each(self, call: Callable[[int, Any], Any]) -> list[int]:
        """`call(index, parent)` for every parent into `values`, an exception as the value
        of the parent it failed for; the indexes whose value is still awaitable."""
        values: list[Any] = []
        for index, source in enumerate(self.batch.sources):
            try:
                value = call(index, source)
            except Exception as error:
                value = error
            values.append(value)
        self.values = values
        return self.executor.awaiting(values)

    def batched(self, resolver: BatchResolver) -> list[int]:
        """One call for every parent (`batch_resolvers`); its result may still be awaitable."""
        sources = self.batch.sources
        try:
            outcome = resolver(list(sources), self.info(0))
        except Exception as error:
            outcome = [error] * len(sources)
        if self.executor.is_awaitable(outcome):
            self.pending = outcome
            self.values = [None] * len(sources)
            return []
        return self.take(outcome)

    def take(self, outcome: Any) -> list[int]:
        """A batch resolver's values, one per parent; the indexes still awaitable."""
        count = len(self.batch.sources)
        if not isinstance(outcome, list) or len(outcome) != count:
            error = TypeError(
                f"The batch resolver of {self.batch.object_type.name}.{self.nodes[0].name.value}"
                f" returned {len(outcome) if isinstance(outcome, list) else type(outcome).__name__}"
                f" values for {count} parents."
            )
            outcome = [error] * count
        self.values = outcome
        return self.executor.awaiting(outcome)

    def info(self, index: int) -> Any:
        """strawberry's Info for the field at the `index`-th parent."""
        raw = self.executor.build_resolve_info(
            self.plan.field_def, self.nodes, self.batch.object_type, self.path(index)
        )
        return self.executor.info_class(_raw_info=raw, _field=self.plan.definition)

    def call(self, direct: Direct) -> list[int]:
        """The resolver called as strawberry would call it: parent first, `info` by name."""
        function = direct.function
        if direct.takes_self and direct.info_name is None and not direct.source_names:
            return self.each(lambda _index, source: function(source))

        def call(index: int, source: Any) -> Any:
            args, keywords = self.arguments(direct, index)
            return function(*args, **keywords)

        return self.each(call)

    def arguments(self, direct: Direct, index: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
        source = self.batch.sources[index]
        keywords: dict[str, Any] = dict.fromkeys(direct.source_names, source)
        if direct.info_name is not None:
            keywords[direct.info_name] = self.info(index)
        return ((source,) if direct.takes_self else ()), keywords

    def delegate(self) -> list[int]:
        """graphql-core executes the field, object by object (types this executor leaves
        to it); its errors in non-null positions come back here to propagate."""
        executor, batch, details = self.executor, self.batch, self.details
        return self.each(
            lambda index, source: executor.execute_field(
                batch.object_type, source, details, self.path(index), None
            )
        )


SEQUENCES = (list, tuple)  # the lists whose elements are looked at (not generators: consumed)
LISTS_OR_NULL = frozenset({list, tuple, type(None)})


class AwaitableItems:
    """A list field's elements that are awaitables, as graphql-core accepts them (it awaits
    each element of a list before completing it): found in lists and tuples at every level
    of the field's list type, each list copied so that the resolver's own stays as it was.
    Element types seen not to be awaitable are remembered for the operation, so a list of
    ordinary objects costs one set lookup per element."""

    def __init__(self, run: FieldRun) -> None:
        self.plain = run.executor.plain_types
        self.is_awaitable = run.executor.is_awaitable
        self.slots: list[tuple[list[Any], int]] = []  # (copied list, index) per awaitable

    def find(self, run: FieldRun) -> bool:
        """Copy into `run.values` every list holding awaitables; whether there was one."""
        shape, values = run.plan.shape, run.values
        item = shape.item
        if item is not None and item.kind != LIST:  # one pass in C: all elements known plain
            if LISTS_OR_NULL.issuperset(map(type, values)):
                lists: Iterable[Any] = filter(None, values)
            else:
                lists = (value for value in values if type(value) in SEQUENCES)
            if self.plain.issuperset(map(type, chain.from_iterable(lists))):
                return False
        for index, value in enumerate(values):
            copied = self.scan(value, shape)
            if copied is not None:
                values[index] = copied
        return bool(self.slots)

    def scan(self, value: Any, shape: Shape) -> list[Any] | None:
        """`value` as a list with its awaitables noted, if it (or a list in it) has any."""
        item = shape.item
        if shape.kind != LIST or item is None or type(value) not in SEQUENCES:
            return None
        copy: list[Any] | None = None
        for index, element in enumerate(value):
            nested = self.scan(element, item) if item.kind == LIST else None
            if nested is None and not self.awaitable(element):
                continue
            if copy is None:
                copy = list(value)
            if nested is not None:
                copy[index] = nested
            else:
                self.slots.append((copy, index))
        return copy

    def awaitable(self, element: Any) -> bool:
        kind = type(element)
        if kind in self.plain:
            return False
        if self.is_awaitable(element):
            return True
        if kind is not GeneratorType:  # a generator may be a (generator-based) coroutine
            self.plain.add(kind)
        return False


def attributes(sources: list[Any], name: str) -> list[Any]:
    """The attribute (or dotted path: `record.number`) of each source; an error becomes that
    object's value."""
    read = attrgetter(name)
    try:
        return list(map(read, sources))
    except Exception:  # a property that raised: find which, keep the others
        return [attribute_or_error(source, read) for source in sources]


def attribute_or_error(source: Any, read: Callable[[Any], Any]) -> Any:
    try:
        return read(source)
    except Exception as error:
        return error


def argument_values(
    executor: ExecutionState, plan: FieldPlan, fields: FieldDetailsList
) -> dict[str, Any]:
    """The field's coerced arguments: the same for every object of the batch."""
    first = fields[0]
    if not plan.field_def.args and not first.node.arguments:
        return {}
    return get_argument_values(
        plan.field_def,
        first.node,
        executor.variable_values,
        first.fragment_variable_values,
        executor.hide_suggestions,
    )
