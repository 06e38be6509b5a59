"""Operation limits: depth, aliases, root fields, tokens and cost, checked before execution.

Checks run in order of cost to the server:
1. `prescan`: one regex pass over the source measures bracket nesting (strings and comments
   skipped), so a 10,000-deep document is refused before the recursive parser sees it.
2. `parse_limited`: graphql-core's parser with `max_lexical_tokens`, so huge documents stop
   parsing at the limit instead of building an AST.
3. `check_document`: one walk per operation measuring depth, aliases, root fields and cost.
   Fragments are measured once each, in dependency order, so fragment cycles end and
   fragment "bombs" (each fragment spreading the next twice) cost nothing to measure.

Cost: every field resolved counts 1 each time it is resolved. A field taking `first`
multiplies its selections by `first` (its argument, variable or default); another list field
by `default_list_size`; `edges`/`nodes` of a `…Connection` count once per item, since the
connection already multiplied. Introspection (`__schema`, `__type`) is exempt from depth and
cost, so GraphiQL's introspection query (depth 15) passes; cyclic introspection
(`types { fields { type { fields … } } }`) is graphql-core's MaxIntrospectionDepthRule's job,
which `OperationLimits` adds to validation.

Each breach is a GraphQLError with extensions {code, limit, measured}.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, fields
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    MaxIntrospectionDepthRule,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    Source,
    TypeMetaFieldDef,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    parse,
)
from graphql.language import Lexer, TokenKind
from strawberry.extensions import SchemaExtension

INPUT_NESTING_ALLOWANCE = 16  # brackets beyond selection depth: arguments, input objects, lists
_SCAN = re.compile(
    r'"""(?:[^"\\]++|\\"""|\\|"(?!""))*+"""'  # block string
    r'|"(?:[^"\\\n\r]++|\\.)*+"'  # string
    r"|#[^\n\r]*+"  # comment
    r"|[{(\[]|[})\]]"
)
_INTROSPECTION = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-operation ceilings; one instance per role via `LimitPolicy`."""

    max_depth: int = 12
    max_aliases: int = 30
    max_root_fields: int = 20
    max_tokens: int = 5000
    max_cost: int = 20000
    default_list_size: int = 20
    max_batch: int = 10
    max_body_bytes: int = 1_000_000


@dataclass(frozen=True)
class LimitPolicy:
    """Default limits plus overrides by role; a caller with several roles gets the most generous."""

    default: Limits = field(default_factory=Limits)
    by_role: Mapping[str, Limits] = field(default_factory=dict)

    def for_roles(self, roles: Iterable[str]) -> Limits:
        chosen = [self.by_role[role] for role in roles if role in self.by_role]
        if not chosen:
            return self.default
        return Limits(**{f.name: max(getattr(c, f.name) for c in chosen) for f in fields(Limits)})


@dataclass(frozen=True, slots=True)
class OperationMetrics:
    """What one operation (or fragment) measures; `cost` is per single resolution."""

    depth: int = 0
    aliases: int = 0
    root_fields: int = 0
    cost: int = 0


def limit_error(code: str, what: str, limit: int, measured: int) -> GraphQLError:
    message = f"{what} is {measured}, over the limit of {limit}."
    return GraphQLError(message, extensions={"code": code, "limit": limit, "measured": measured})


def prescan(source: str) -> tuple[int, int]:
    """Deepest bracket nesting and number of comments, without parsing."""
    depth = deepest = comments = 0
    for match in _SCAN.finditer(source):
        char = match.group()[0]
        if char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "})]":
            depth -= 1
        elif char == "#":
            comments += 1
    return deepest, comments


def parse_limited(source: str, limits: Limits) -> DocumentNode:
    """Parse under the size, nesting and token limits; raises GraphQLError (a limit or syntax)."""
    if len(source) > limits.max_body_bytes:  # the HTTP guard counts bytes; this, characters
        raise limit_error("REQUEST_TOO_LARGE", "Query length", limits.max_body_bytes, len(source))
    nesting, comments = prescan(source)
    if nesting > limits.max_depth + INPUT_NESTING_ALLOWANCE:
        raise limit_error("QUERY_TOO_DEEP", "Query nesting depth", limits.max_depth, nesting)
    if comments > limits.max_tokens:
        raise limit_error("QUERY_TOO_LARGE", "Number of comments", limits.max_tokens, comments)
    try:
        return parse(source, max_lexical_tokens=limits.max_tokens, max_comments=limits.max_tokens)
    except GraphQLSyntaxError as error:
        if "tokens. Parsing aborted" not in error.message:
            raise
        measured = count_tokens(source)
    raise limit_error("QUERY_TOO_LARGE", "Number of tokens", limits.max_tokens, measured)


def count_tokens(source: str) -> int:
    """Lexical tokens in `source` (comments excluded), up to the first lexical error."""
    lexer, count = Lexer(Source(source)), 0
    try:
        while lexer.advance().kind != TokenKind.EOF:
            count += 1
    except GraphQLSyntaxError:
        pass
    return count


def check_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    limits: Limits,
    *,
    variables: Mapping[str, Any] | None = None,
) -> list[GraphQLError]:
    """Limit errors for every operation of the document (empty when all are within limits)."""
    metrics = measure_operations(schema, document, limits, variables=variables)
    return [error for m in metrics for error in _breaches(m, limits)]


def measure_operations(
    schema: GraphQLSchema,
    document: DocumentNode,
    limits: Limits,
    *,
    variables: Mapping[str, Any] | None = None,
) -> list[OperationMetrics]:
    """Metrics of every operation of the document, in document order."""
    meter = _Meter(schema, document, limits, variables or {})
    return [meter.measure(op) for op in meter.operations()]


def _breaches(m: OperationMetrics, limits: Limits) -> Iterator[GraphQLError]:
    if m.depth > limits.max_depth:
        yield limit_error("QUERY_TOO_DEEP", "Query depth", limits.max_depth, m.depth)
    if m.aliases > limits.max_aliases:
        yield limit_error("TOO_MANY_ALIASES", "Number of aliases", limits.max_aliases, m.aliases)
    if m.root_fields > limits.max_root_fields:
        what, limit = "Number of root fields", limits.max_root_fields
        yield limit_error("TOO_MANY_ROOT_FIELDS", what, limit, m.root_fields)
    if m.cost > limits.max_cost:
        yield limit_error("QUERY_TOO_COMPLEX", "Estimated query cost", limits.max_cost, m.cost)


class _Meter:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        limits: Limits,
        variables: Mapping[str, Any],
    ) -> None:
        self.schema, self.limits, self.variables = schema, limits, variables
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
            depth, cost = max(depth, child.depth), cost + child.cost
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
        return OperationMetrics(child.depth + 1, child.aliases, 0, 1 + multiplier * child.cost)

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
        return self.limits.default_list_size

    def _first_argument(self, node: FieldNode, definition: GraphQLField) -> int | None:
        if "first" not in definition.args:
            return None
        value: Any = definition.args["first"].default_value
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                value = self.variables.get(argument.value.name.value)
        if isinstance(value, int) and not isinstance(value, bool):
            return max(value, 0)
        return self.limits.default_list_size


def _field(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if name in _INTROSPECTION:  # meta fields are not among the root type's fields
        return SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
    fields_map = getattr(parent, "fields", None)
    return fields_map.get(name) if isinstance(fields_map, dict) else None


def limit_rule(limits: Limits) -> type[ValidationRule]:
    """A graphql-core validation rule enforcing `limits` (variables count as their defaults)."""

    class OperationLimitsRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> None:
            for error in check_document(self.context.schema, node, limits):
                self.report_error(error)

    return OperationLimitsRule


def roles_from_context(context: Any) -> Iterable[str]:
    """Roles of `context.principal` (GatewayContext), or none."""
    principal = getattr(context, "principal", None)
    roles = getattr(principal, "roles", None)
    return roles if isinstance(roles, frozenset | set | list | tuple) else ()


class OperationLimits(SchemaExtension):
    """Strawberry extension: parse under the limits, then refuse over-limit operations.

    Register a factory so each request gets its own instance:

        strawberry.Schema(Query, extensions=[OperationLimits.factory(LimitPolicy())])
    """

    def __init__(
        self, policy: LimitPolicy, *, roles_of: Callable[[Any], Iterable[str]] = roles_from_context
    ) -> None:
        self.policy, self.roles_of = policy, roles_of

    @classmethod
    def factory(
        cls, policy: LimitPolicy, *, roles_of: Callable[[Any], Iterable[str]] = roles_from_context
    ) -> Callable[[], OperationLimits]:
        return lambda: cls(policy, roles_of=roles_of)

    def _limits(self) -> Limits:
        return self.policy.for_roles(self.roles_of(self.execution_context.context))

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is None and ctx.query:
            # On a syntax error strawberry parses again and reports it its usual way.
            with suppress(GraphQLSyntaxError):
                ctx.graphql_document = parse_limited(ctx.query, self._limits())
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is not None and ctx.pre_execution_errors is None:
            limits, schema = self._limits(), ctx.schema._schema
            errors = check_document(schema, ctx.graphql_document, limits, variables=ctx.variables)
            if errors:
                ctx.pre_execution_errors = errors  # strawberry then skips validation
        if MaxIntrospectionDepthRule not in ctx.validation_rules:
            ctx.validation_rules = (*ctx.validation_rules, MaxIntrospectionDepthRule)
        yield
