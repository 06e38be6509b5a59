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

The walk of the document (with the schema's type information) is made once per parsed
document and schema: it yields a plan, the literal errors and the `first` arguments in
document order, and each request only reads its variables against the plan. The gateway
parses a repeated document once, so a repeated query is walked once, not once per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
    errors: list[GraphQLError] = []
    given = variables or {}
    for check in _plan(schema, document):
        if isinstance(check, _Literal):
            errors.append(check.error())  # a new error each time: callers may annotate it
        elif max_first is not None:
            value = check.value(given)
            if value is not None and not 0 <= value <= max_first:
                error = first_out_of_range(value, max_first)
                extensions = error.to_extensions()
                errors.append(GraphQLError(error.message, check.node, extensions=extensions))
    return errors


@dataclass(frozen=True)
class _Literal:
    """An Int literal outside 32 bits."""

    node: IntValueNode

    def error(self) -> GraphQLError:
        message = f"Int cannot represent non 32-bit signed integer value: {shown(self.node.value)}"
        code = {"code": "GRAPHQL_VALIDATION_FAILED"}
        return GraphQLError(message, self.node, extensions=code)


@dataclass(frozen=True)
class _First:
    """A `first` argument of the document: a literal, or a variable (with its default)."""

    node: ArgumentNode
    literal: int | None = None
    variable: str | None = None
    default: IntValueNode | None = None

    def value(self, variables: Mapping[str, Any]) -> int | None:
        if self.variable is None:
            return self.literal
        given = variables.get(self.variable, self.default)
        if isinstance(given, IntValueNode):
            return int_literal(given.value)
        is_int = isinstance(given, int) and not isinstance(given, bool)
        return given if is_int else None


Plan = tuple[_Literal | _First, ...]

# Plans by (schema, document), the objects kept and compared on reading (ids are reused).
# Bounded: cleared when full.
_PLANS: dict[tuple[int, int], tuple[GraphQLSchema, DocumentNode, Plan]] = {}
MAX_PLANS = 512


def _plan(schema: GraphQLSchema, document: DocumentNode) -> Plan:
    key = (id(schema), id(document))
    found = _PLANS.get(key)
    if found is not None and found[0] is schema and found[1] is document:
        return found[2]
    check = _ArgumentCheck(TypeInfo(schema), _defaults(document))
    visit(document, TypeInfoVisitor(check.type_info, check))
    plan = tuple(check.plan)
    if len(_PLANS) >= MAX_PLANS:
        _PLANS.clear()
    _PLANS[key] = (schema, document, plan)
    return plan


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
    """The walk behind a plan: literal errors and `first` arguments, in document order."""

    def __init__(self, type_info: TypeInfo, defaults: Mapping[str, IntValueNode]) -> None:
        super().__init__()
        self.type_info = type_info
        self.defaults = defaults
        self.plan: list[_Literal | _First] = []

    def enter_int_value(self, node: IntValueNode, *_args: Any) -> None:
        expected = self.type_info.get_input_type()
        is_int = expected is not None and get_named_type(expected) is GraphQLInt
        if is_int and int_literal(node.value) is None:
            self.plan.append(_Literal(node))

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        if node.name.value != "first":
            return
        definition = self.type_info.get_argument()
        if definition is None or get_named_type(definition.type) is not GraphQLInt:
            return
        literal = node.value
        if isinstance(literal, VariableNode):
            name = literal.name.value
            self.plan.append(_First(node, variable=name, default=self.defaults.get(name)))
        elif isinstance(literal, IntValueNode):
            self.plan.append(_First(node, literal=int_literal(literal.value)))
