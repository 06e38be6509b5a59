"""The cost walker: depth, aliases, root fields and estimated cost of each operation.

    metrics = measure_document(schema, document, default_list_size=20, variables={"n": 5})

One walk per operation. Fragments are measured once each, in dependency order, so fragment
cycles end and fragment "bombs" (each fragment spreading the next twice) cost nothing to
measure.

Cost: every field resolved counts 1 each time it is resolved. A field taking `first`
multiplies its selections by `first` (its argument, variable, the variable's default in the
document, or the argument's default); another list field
by `default_list_size`; `edges`/`nodes` of a `…Connection` count once per item, since the
connection already multiplied. Introspection (`__schema`, `__type`) is exempt from depth and
cost, so GraphiQL's introspection query (depth 15) passes. An Int literal outside GraphQL's
32-bit range counts as absent (argument_ranges.py refuses it), and the estimate stops
growing at COST_CEILING, so that it stays a number every JSON reader keeps exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    VariableNode,
    get_named_type,
    get_nullable_type,
)

from gateway.protection.argument_ranges import INT_MAX, INT_MIN, int_literal

_INTROSPECTION = frozenset({"__schema", "__type"})
COST_CEILING = 2**53 - 1  # the largest integer a JSON reader using doubles keeps exact


@dataclass(frozen=True, slots=True)
class OperationMetrics:
    """What one operation (or fragment) measures; `cost` is per single resolution."""

    depth: int = 0
    aliases: int = 0
    root_fields: int = 0
    cost: int = 0


def measure_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    default_list_size: int,
    variables: Mapping[str, Any] | None = None,
) -> list[OperationMetrics]:
    """Metrics of every operation of the document, in document order."""
    effective = {**variable_defaults(document), **(variables or {})}
    meter = _Meter(schema, document, default_list_size, effective)
    return [meter.measure(op) for op in meter.operations()]


def variable_defaults(document: DocumentNode) -> dict[str, int]:
    """Integer defaults of the document's variables (`query($n: Int = 200)`), which apply
    when the request omits them; the largest when operations disagree (fragments are
    measured once for every operation)."""
    found: dict[str, int] = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for variable in definition.variable_definitions or ():
            value = variable.default_value
            number = int_literal(value.value) if isinstance(value, IntValueNode) else None
            if number is not None:
                name = variable.variable.name.value
                found[name] = max(found.get(name, 0), number)
    return found


class _Meter:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        default_list_size: int,
        variables: Mapping[str, Any],
    ) -> None:
        self.schema, self.variables = schema, variables
        self.default_list_size = default_list_size
        self.document = document
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.memo: dict[str, OperationMetrics] = {}
        for name in self._dependency_order():
            fragment = self.fragments[name]
            self.memo[name] = self._measure_set(
                fragment.selection_set, schema.get_type(fragment.type_condition.name.value)
            )

    def operations(self) -> list[OperationDefinitionNode]:
        return [d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)]

    def measure(self, operation: OperationDefinitionNode) -> OperationMetrics:
        return self._measure_set(
            operation.selection_set, self.schema.get_root_type(operation.operation)
        )

    def _dependency_order(self) -> list[str]:
        """Fragments with the ones they spread first; an edge closing a cycle is ignored."""
        order: list[str] = []
        state: dict[str, str] = {}
        for root in self.fragments:
            if root in state:
                continue
            stack, state[root] = [(root, iter(self._spreads(root)))], "open"
            while stack:
                name, pending = stack[-1]
                child = next(pending, None)
                if child is None:
                    stack.pop()
                    state[name] = "done"
                    order.append(name)
                elif child in self.fragments and child not in state:
                    state[child] = "open"
                    stack.append((child, iter(self._spreads(child))))
        return order

    def _spreads(self, name: str) -> list[str]:
        found, sets = [], [self.fragments[name].selection_set]
        while sets:
            for sel in sets.pop().selections:
                if isinstance(sel, FragmentSpreadNode):
                    found.append(sel.name.value)
                elif isinstance(sel, FieldNode | InlineFragmentNode) and sel.selection_set:
                    sets.append(sel.selection_set)
        return found

    def _measure_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> OperationMetrics:
        depth = aliases = root_fields = cost = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                child = self._measure_field(sel, parent)
                root_fields += 1
                aliases += child.aliases + (sel.alias is not None)
            else:
                child = self._measure_fragment(sel, parent)
                root_fields += child.root_fields
                aliases += child.aliases
            depth, cost = max(depth, child.depth), min(cost + child.cost, COST_CEILING)
        return OperationMetrics(depth, aliases, root_fields, cost)

    def _measure_fragment(self, sel: Any, parent: GraphQLNamedType | None) -> OperationMetrics:
        if isinstance(sel, FragmentSpreadNode):
            return self.memo.get(sel.name.value, OperationMetrics())
        assert isinstance(sel, InlineFragmentNode)
        if sel.type_condition is not None:
            parent = self.schema.get_type(sel.type_condition.name.value)
        return self._measure_set(sel.selection_set, parent)

    def _measure_field(self, node: FieldNode, parent: GraphQLNamedType | None) -> OperationMetrics:
        if node.selection_set is None:
            return OperationMetrics(depth=1, cost=1)
        definition = _field(parent, node.name.value)
        child_type = get_named_type(definition.type) if definition else None
        child = self._measure_set(node.selection_set, child_type)
        multiplier = self._multiplier(node, definition, parent)
        if node.name.value in _INTROSPECTION:
            return OperationMetrics(aliases=child.aliases, cost=1)
        cost = min(1 + multiplier * child.cost, COST_CEILING)
        return OperationMetrics(child.depth + 1, child.aliases, 0, cost)

    def _multiplier(
        self, node: FieldNode, definition: GraphQLField | None, parent: GraphQLNamedType | None
    ) -> int:
        if definition is None:
            return 1
        first = self._first_argument(node, definition)
        if first is not None:
            return first
        if not isinstance(get_nullable_type(definition.type), GraphQLList):
            return 1
        in_connection = parent is not None and parent.name.endswith("Connection")
        if in_connection and node.name.value in ("edges", "nodes"):
            return 1
        return self.default_list_size

    def _first_argument(self, node: FieldNode, definition: GraphQLField) -> int | None:
        if "first" not in definition.args:
            return None
        value: Any = definition.args["first"].default_value
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            if isinstance(argument.value, IntValueNode):
                value = int_literal(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                value = self.variables.get(argument.value.name.value)
        if isinstance(value, int) and not isinstance(value, bool) and INT_MIN <= value <= INT_MAX:
            return max(value, 0)
        return self.default_list_size


def _field(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if name in _INTROSPECTION:  # meta fields are not among the root type's fields
        return SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
    fields_map = getattr(parent, "fields", None)
    return fields_map.get(name) if isinstance(fields_map, dict) else None
