"""The execution context strawberry hands to graphql-core: batched execution for queries.

Queries run through `schema.execution.batched`; everything else takes graphql-core's own path
unchanged: mutations (their root fields run one after another), subscriptions, operations
with an abort signal, and introspection (`__schema`, `__type` at the root).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, OperationType
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import AwaitableOrValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import Info

from schema.execution.batched import execute
from schema.execution.hooks import hooks_active, hooks_needed_at
from schema.execution.plans import Plans

_INTROSPECTION = frozenset({"__schema", "__type"})


class BatchedExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with queries completed a field per batch of objects."""

    data_nulled = False  # a non-null root field failed: the response's data is null
    nullings = 0  # positions nulled by error propagation so far (see tree.Batch.alive)
    field_hooks = False  # the extensions' per-field hooks run for this operation
    info_class: type[Info] = Info  # the schema's strawberry Info, for resolvers called directly

    def execute_root_grouped_field_set(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        if not self._batches(grouped_field_set, serially, position_context):
            return super().execute_root_grouped_field_set(
                root_type, root_value, grouped_field_set, serially, position_context
            )
        self.plans = plans_of(self.schema)
        self.field_hooks = hooks_active(self.middleware_manager)
        self._hooked: dict[int, bool] = {}
        self.info_class = self.schema._strawberry_schema.config.info_class  # type: ignore[attr-defined]
        return execute(self, root_type, root_value, grouped_field_set)  # type: ignore[return-value]

    def _batches(self, fields: GroupedFieldSet, serially: bool, position_context: Any) -> bool:
        return (
            not serially
            and position_context is None
            and self.abort_signal is None
            and self.operation.operation == OperationType.QUERY
            and not any(details[0].node.name.value in _INTROSPECTION for details in fields.values())
        )

    def hooked(self, parent_type: GraphQLObjectType, name: str, field_def: GraphQLField) -> bool:
        """Whether the extensions' per-field hooks must see this field in this operation."""
        if not self.field_hooks:
            return False
        found = self._hooked.get(id(field_def))
        if found is None:
            found = hooks_needed_at(self.middleware_manager, parent_type, name)
            self._hooked[id(field_def)] = found
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
