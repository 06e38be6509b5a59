"""Int arguments range-checked before the cost of an operation is estimated.

    errors = argument_errors(schema, document, variables, max_first=200)

The cost walker (protection/cost.py) multiplies by `first`, so a `first` of 18446744073709551616
would make an estimate no JSON encoder writes, and a 5,000-digit literal is more than
Python's int() converts. Both are the client's mistake and are refused here, first:

    GRAPHQL_VALIDATION_FAILED  an Int literal outside GraphQL's 32-bit signed range (the
                               spec's Int; graphql-core says the same, later, in validation)
    BAD_USER_INPUT             a `first` (literal, variable or the variable's default) outside
                               0..`graphql.max_first`, with `argument` and `max`

Variables of other Int arguments are left to graphql-core's coercion, which reports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    GraphQLInt,
    GraphQLSchema,
    IntValueNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    get_named_type,
    visit,
)

from schema.connections import first_out_of_range

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
_INT_DIGITS = len(str(INT_MIN))  # "-2147483648": longer literals are out of range


def int_literal(text: str) -> int | None:
    """The value of an Int literal, or None outside the 32-bit range (never int() of a
    5,000-digit string, which raises)."""
    if len(text) > _INT_DIGITS:
        return None
    value = int(text)
    return value if INT_MIN <= value <= INT_MAX else None


def shown(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}… ({len(text)} digits)"


def argument_errors(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    *,
    max_first: int | None,
) -> list[GraphQLError]:
    """Errors for the out-of-range Int arguments of every operation of the document."""
    check = _ArgumentCheck(TypeInfo(schema), variables or {}, max_first, _defaults(document))
    visit(document, TypeInfoVisitor(check.type_info, check))
    return check.errors


def _defaults(document: DocumentNode) -> dict[str, IntValueNode]:
    """Literal defaults of the document's variables (`query($n: Int = 5000)`)."""
    found: dict[str, IntValueNode] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for variable in definition.variable_definitions or ():
                if isinstance(variable.default_value, IntValueNode):
                    found[variable.variable.name.value] = variable.default_value
    return found


class _ArgumentCheck(Visitor):
    def __init__(
        self,
        type_info: TypeInfo,
        variables: Mapping[str, Any],
        max_first: int | None,
        defaults: Mapping[str, IntValueNode],
    ) -> None:
        super().__init__()
        self.type_info, self.variables, self.max_first = type_info, variables, max_first
        self.defaults = defaults
        self.errors: list[GraphQLError] = []

    def enter_int_value(self, node: IntValueNode, *_args: Any) -> None:
        expected = self.type_info.get_input_type()
        is_int = expected is not None and get_named_type(expected) is GraphQLInt
        if is_int and int_literal(node.value) is None:
            value = shown(node.value)
            message = f"Int cannot represent non 32-bit signed integer value: {value}"
            code = {"code": "GRAPHQL_VALIDATION_FAILED"}
            self.errors.append(GraphQLError(message, node, extensions=code))

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        if self.max_first is None or node.name.value != "first":
            return
        definition = self.type_info.get_argument()
        if definition is None or get_named_type(definition.type) is not GraphQLInt:
            return
        value = self._value(node)
        if value is not None and not 0 <= value <= self.max_first:
            error = first_out_of_range(value, self.max_first)
            self.errors.append(GraphQLError(error.message, node, extensions=error.to_extensions()))

    def _value(self, node: ArgumentNode) -> int | None:
        literal = node.value
        if isinstance(literal, VariableNode):
            name = literal.name.value
            given = self.variables.get(name, self.defaults.get(name))
            if isinstance(given, IntValueNode):
                return int_literal(given.value)
            is_int = isinstance(given, int) and not isinstance(given, bool)
            return given if is_int else None
        return int_literal(literal.value) if isinstance(literal, IntValueNode) else None
