"""Operation limits: depth, aliases, root fields, tokens and cost, checked before execution.

Checks run in order of cost to the server:
1. `prescan`: one regex pass over the source measures bracket nesting (strings and comments
   skipped), so a 10,000-deep document is refused before the recursive parser sees it.
2. `parse_limited`: graphql-core's parser with `max_lexical_tokens`, so huge documents stop
   parsing at the limit instead of building an AST.
3. `argument_errors` (argument_ranges.py): Int literals outside 32 bits and a `first`
   outside 0..`graphql.max_first` (given as `max_first`) are refused before anything is
   estimated from them.
4. `check_document`: the cost walker of `cost.py` measures depth, aliases, root fields
   and estimated cost of each operation (fragment cycles and bombs included).

Introspection is exempt from depth and cost (GraphiQL's query has depth 15); cyclic introspection
(`types { fields { type { fields … } } }`) is graphql-core's MaxIntrospectionDepthRule's job,
which `OperationLimits` adds to validation.

Each breach is a GraphQLError with extensions {code, limit, measured}.

Parsing and validation are cached (bounded LRU, shared by every request): the same document
text under the same limits parses to the same (never mutated) AST, and a document validated
once against a schema with the same rules gives the same errors. The measurements are kept
too (`measured_once`), by document text, schema, list size and what variables can change in
them: the Int value, or its absence, of each variable given (only `first` reads variables).
The errors are made anew for every request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    MaxIntrospectionDepthRule,
    Source,
    ValidationRule,
    parse,
)
from graphql.language import Lexer, TokenKind
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from gateway.lru import Lru
from gateway.protection.argument_ranges import argument_errors
from gateway.protection.cost import COST_CEILING, OperationMetrics, measure_document
from schema.context import GatewayContext

INPUT_NESTING_ALLOWANCE = 16  # brackets beyond selection depth: arguments, input objects, lists
_SCAN = re.compile(
    r'"""(?:[^"\\]++|\\"""|\\|"(?!""))*+"""'  # block string
    r'|"(?:[^"\\\n\r]++|\\.)*+"'  # string
    r"|#[^\n\r]*+"  # comment
    r"|[{(\[]|[})\]]"
)


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


CACHED_DOCUMENTS = 256  # distinct (document text, limits) pairs kept parsed and validated


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


_parse_cached = lru_cache(maxsize=CACHED_DOCUMENTS)(parse_limited)
_validate_cached = lru_cache(maxsize=CACHED_DOCUMENTS)(validate_document)


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
    """Metrics of every operation of the document, in document order (see cost.py)."""
    size = limits.default_list_size
    return measure_document(schema, document, default_list_size=size, variables=variables)


MAX_KEYED_VARIABLES = 32  # more variables than this: measured on every request, not kept
_measured: Lru[tuple[Any, ...], list[OperationMetrics]] = Lru(CACHED_DOCUMENTS)


def measured_once(
    schema: GraphQLSchema,
    query: str | None,
    document: DocumentNode,
    limits: Limits,
    variables: Mapping[str, Any] | None,
) -> list[GraphQLError]:
    """`check_document` for the document parsed from `query`, measured once per variables'
    shape: 0.5-0.7 % of the CPU of a request (bench.cpu_sample, peer's W2 and W1).

    The cost reads a variable only as a `first` argument, and only an Int (not a bool) counts;
    any other value, like an absent variable, means the default list size (but a given one
    replaces the document's default). The key keeps each given variable's Int value, or None.
    Without the text that names the document (`query` None), it is measured every time.
    """
    given = variables or {}
    if query is None or len(given) > MAX_KEYED_VARIABLES:
        return check_document(schema, document, limits, variables=variables)
    shape = tuple(sorted((k, v if type(v) is int else None) for k, v in given.items()))
    key = (schema, query, limits.default_list_size, shape)  # the schema by identity
    metrics = _measured.get(key)
    if metrics is None:
        metrics = _measured.put(key, measure_operations(schema, document, limits, variables=given))
    return [error for m in metrics for error in _breaches(m, limits)]


def _breaches(m: OperationMetrics, limits: Limits) -> Iterator[GraphQLError]:
    if m.depth > limits.max_depth:
        yield limit_error("QUERY_TOO_DEEP", "Query depth", limits.max_depth, m.depth)
    if m.aliases > limits.max_aliases:
        yield limit_error("TOO_MANY_ALIASES", "Number of aliases", limits.max_aliases, m.aliases)
    if m.root_fields > limits.max_root_fields:
        what, limit = "Number of root fields", limits.max_root_fields
        yield limit_error("TOO_MANY_ROOT_FIELDS", what, limit, m.root_fields)
    if m.cost > limits.max_cost:
        what = "Estimated query cost" + (" (at least)" if m.cost >= COST_CEILING else "")
        yield limit_error("QUERY_TOO_COMPLEX", what, limits.max_cost, m.cost)


def limit_rule(limits: Limits) -> type[ValidationRule]:
    """A graphql-core validation rule enforcing `limits` (variables count as their defaults)."""

    class OperationLimitsRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> None:
            for error in check_document(self.context.schema, node, limits):
                self.report_error(error)

    return OperationLimitsRule


def roles_from_context(context: object) -> Iterable[str]:
    """The caller's roles (a GatewayContext's principal); none for any other context."""
    return context.principal.roles if isinstance(context, GatewayContext) else ()


def measured_schema(ctx: Any) -> GraphQLSchema:
    """The schema an operation is measured on: the one its validation rule validates against
    (`validates_against`, the caller's visible schema in the policy's "hide" mode), else the
    whole schema. A field the caller may not see then costs what a missing one costs."""
    for rule in ctx.validation_rules:
        visible = getattr(rule, "validates_against", None)
        if isinstance(visible, GraphQLSchema):
            return visible
    return schema_of(ctx)


def schema_of(ctx: Any) -> GraphQLSchema:
    """The graphql-core schema of a strawberry execution context."""
    schema: GraphQLSchema = ctx.schema._schema
    return schema


class OperationLimits(SchemaExtension):
    """Strawberry extension: parse under the limits, then refuse over-limit operations.

    Register a factory so each request gets its own instance:

        strawberry.Schema(Query, extensions=[OperationLimits.factory(LimitPolicy())])
    """

    def __init__(
        self,
        policy: LimitPolicy,
        *,
        roles_of: Callable[[Any], Iterable[str]] = roles_from_context,
        max_first: int | None = None,
    ) -> None:
        self.policy, self.roles_of, self.max_first = policy, roles_of, max_first

    @classmethod
    def factory(
        cls,
        policy: LimitPolicy,
        *,
        roles_of: Callable[[Any], Iterable[str]] = roles_from_context,
        max_first: int | None = None,
    ) -> Callable[[], OperationLimits]:
        return lambda: cls(policy, roles_of=roles_of, max_first=max_first)

    def _limits(self) -> Limits:
        return self.policy.for_roles(self.roles_of(self.execution_context.context))

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is None and ctx.query:
            # On a syntax error strawberry parses again and reports it its usual way.
            with suppress(GraphQLSyntaxError):
                ctx.graphql_document = _parse_cached(ctx.query, self._limits())
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is not None and ctx.pre_execution_errors is None:
            limits, schema, document = self._limits(), measured_schema(ctx), ctx.graphql_document
            # Int arguments first: the cost estimate multiplies by them
            errors = argument_errors(schema, document, ctx.variables, max_first=self.max_first)
            errors = errors or measured_once(schema, ctx.query, document, limits, ctx.variables)
            if errors:
                ctx.pre_execution_errors = errors  # strawberry then skips validation
        if MaxIntrospectionDepthRule not in ctx.validation_rules:
            ctx.validation_rules = (*ctx.validation_rules, MaxIntrospectionDepthRule)
        if ctx.graphql_document is not None and ctx.pre_execution_errors is None:
            found = _validate_cached(schema_of(ctx), ctx.graphql_document, ctx.validation_rules)
            ctx.pre_execution_errors = list(found)  # a copy: later extensions edit the list
        yield
