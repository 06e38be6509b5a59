"""The execution context strawberry hands to graphql-core: batched execution for queries.

Queries run through `schema.execution.batched`; everything else takes graphql-core's own path
unchanged: mutations (their root fields run one after another), subscriptions, operations
with an abort signal, and introspection (`__schema`, `__type` at the root).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType, OperationType
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import AwaitableOrValue

from schema.execution.batched import execute
from schema.execution.hooks import hooks_active
from schema.execution.state import ExecutionState, plans_of

_INTROSPECTION = frozenset({"__schema", "__type"})
# Value types no resolver's value of which can be awaited (the executor learns the others).
NEVER_AWAITABLE = frozenset({type(None), str, int, float, bool, list, tuple, dict})


class BatchedExecutionContext(ExecutionState):
    """graphql-core's executor, with queries completed a field per batch of objects."""

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
        self._hooked = {}
        self.plain_types = set(NEVER_AWAITABLE)
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
