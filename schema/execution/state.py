"""What the batched executor reads and keeps per operation, on graphql-core's execution context.

`ExecutionState` is the executor's view of the context (`batched`, `field_run` and
`completion` take it); `context.BatchedExecutionContext` adds the one decision of whether an
operation runs batched at all, and hands it to `batched.execute`.
"""

from __future__ import annotations

from types import GeneratorType
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import Info

from schema.execution.hooks import hooks_needed_at
from schema.execution.plans import Plans


class ExecutionState(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution context plus the batched executor's per-operation state."""

    data_nulled = False  # a non-null root field failed: the response's data is null
    nullings = 0  # positions nulled by error propagation so far (see tree.Batch.alive)
    field_hooks = False  # the extensions' per-field hooks run for this operation
    info_class: type[Info] = Info  # the schema's strawberry Info, for resolvers called directly
    plans: Plans  # the schema's field plans (set when a batched operation starts)
    plain_types: set[type]  # value types seen not to be awaitable (this operation)
    _hooked: dict[int, bool]

    def hooked(self, parent_type: GraphQLObjectType, name: str, field_def: GraphQLField) -> bool:
        """Whether the extensions' per-field hooks must see this field in this operation."""
        if not self.field_hooks:
            return False
        found = self._hooked.get(id(field_def))
        if found is None:
            found = hooks_needed_at(self.middleware_manager, parent_type, name)
            self._hooked[id(field_def)] = found
        return found

    def awaiting(self, values: list[Any]) -> list[int]:
        """The indexes of `values` that are awaitable. A type seen not to be awaitable is
        remembered for the operation (`plain_types`), so a batch of ordinary values costs one
        pass in C over their types: `is_awaitable` on each value was 2 % of the CPU of the
        peer's W2 (1,300 objects)."""
        plain = self.plain_types
        if plain.issuperset(map(type, values)):
            return []
        is_awaitable = self.is_awaitable
        found: list[int] = []
        for index, value in enumerate(values):
            kind = type(value)
            if kind in plain:
                continue
            if is_awaitable(value):
                found.append(index)
            elif kind is not GeneratorType:  # a generator may be a (generator-based) coroutine
                plain.add(kind)
        return found

    def resolver_for(self, field_def: GraphQLField, hooked: bool) -> Any:
        """The function graphql-core would call for the field, hooks included if `hooked`."""
        resolve = field_def.resolve or self.field_resolver
        if hooked and self.middleware_manager is not None:
            return self.middleware_manager.get_field_resolver(resolve)
        return resolve


def plans_of(schema: GraphQLSchema) -> Plans:
    """The schema's field plans, kept on the schema: they live and die with it."""
    plans = getattr(schema, "_crossdock_plans", None)
    if plans is None:
        plans = Plans()
        schema._crossdock_plans = plans  # type: ignore[attr-defined]
    return plans
