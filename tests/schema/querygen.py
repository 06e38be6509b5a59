"""Random but reproducible GraphQL query documents over a schema, for differential tests.

    doc = generate(schema._schema, seed=7, values=ArgumentValues(pools={...}))
    await schema.execute(doc.text, variable_values=doc.variables, context_value=...)

Walks the graphql-core schema from the Query root: random fields with aliases (the same field
twice under different aliases and arguments), arguments (literal or through variables, some
with variable defaults), nested objects and lists down to `max_depth`, named fragments (some
spread more than once) and inline fragments (with and without a type condition),
`__typename`, now and then `__type`/`__schema` beside the data fields, `@skip`/`@include`
on fields and fragments, and a field repeated under the same key with another sub-selection
(so the executor must merge them). Over interfaces and unions it selects a union only through
`__typename` and fragments, and puts type conditions on fragments that narrow (an interface to
an implementation, a union to a member) or widen (an object to its interface or union); a schema
without abstract types gets the same documents as before. Every document is valid:
an unaliased field always takes the same arguments in one document and every alias is fresh,
so overlapping fields always merge. The same seed gives the same document.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)

Composite = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType

INTROSPECTION = (
    '__type(name: "Order") { name kind fields { name type { name kind ofType { name } } } }',
    "__schema { queryType { name } types { name } }",
    'i: __type(name: "NoSuchType") { name }',
)


@dataclass(frozen=True)
class ArgumentValues:
    """Values to try per argument, looked up as `Type.field.arg`, then `arg`, then by type.

    Values are Python/JSON values (enum values by name); `None` means an explicit null.
    """

    pools: Mapping[str, Sequence[Any]]
    by_type: Mapping[str, Sequence[Any]] = field(
        default_factory=lambda: {
            "Int": (0, 1, 2, 3),
            "String": ("x",),
            "ID": ("0",),
            "Boolean": (True, False),
            "Float": (1.5,),
        }
    )

    def choices(self, coordinate: str, arg_name: str, named: str) -> Sequence[Any]:
        for key in (f"{coordinate}.{arg_name}", arg_name):
            if key in self.pools:
                return self.pools[key]
        return self.by_type.get(named, (None,))


@dataclass(frozen=True)
class Document:
    """One generated operation: its text and the variables to send with it."""

    seed: int
    text: str
    variables: dict[str, Any]

    def __str__(self) -> str:
        return f"seed {self.seed}:\n{self.text}\nvariables: {json.dumps(self.variables)}"


@dataclass
class _Fragment:
    name: str
    on: str


class _Generator:
    """One document's worth of state: variables, fragments, canonical arguments, budget."""

    def __init__(
        self, schema: GraphQLSchema, rng: random.Random, values: ArgumentValues, budget: int
    ) -> None:
        self.schema = schema
        self.rng = rng
        self.values = values
        self.budget = budget
        self.max_depth = rng.choice((2, 3, 4, 4, 5, 6, 7, 8))
        self.counter = 0
        self.var_defs: list[str] = []
        self.variables: dict[str, Any] = {}
        self.fragments: list[str] = []
        self.done: list[_Fragment] = []  # complete fragments, safe to spread again (no cycles)
        self.canonical: dict[str, str] = {}  # unaliased Type.field -> its arguments text

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # -- selections -------------------------------------------------------------------

    def selection_set(self, parent: Composite, depth: int) -> str:
        wanted = 1 + min(int(self.rng.expovariate(0.6)), 5)
        items: list[str] = []
        fields: list[tuple[str, str, GraphQLField | None]] = []  # (key, head, field)
        for _ in range(wanted):
            roll = self.rng.random()
            if roll < 0.08 and self.budget > 0:
                items.append(self.inline_fragment(parent, depth))
            elif roll < 0.16 and self.budget > 0:
                items.append(self.spread(parent, depth))
            else:
                text, key_head = self.field(parent, depth)
                items.append(text)
                fields.append(key_head)
        merging = [f for f in fields if f[2] is not None and _is_composite(f[2])]
        if merging and self.rng.random() < 0.2:  # same key again, another sub-selection
            _key, head, gql_field = self.rng.choice(merging)
            assert gql_field is not None
            items.append(head + " " + self.selection_set(_composite(gql_field), depth + 1))
        if self.rng.random() < 0.05:
            items.append("__typename")
        if depth == 0 and self.rng.random() < 0.04:  # the executor hands these to graphql-core
            items.append(self.rng.choice(INTROSPECTION))
        return "{ " + " ".join(items) + " }"

    def field(
        self, parent: Composite, depth: int
    ) -> tuple[str, tuple[str, str, GraphQLField | None]]:
        name, gql_field = self.pick_field(parent, depth)
        if gql_field is None:
            alias = f"{self.fresh('t')}: " if self.rng.random() < 0.3 else ""
            return f"{alias}__typename", ("__typename", "__typename", None)
        coordinate = f"{parent.name}.{name}"
        aliased = self.rng.random() < 0.25
        if aliased:
            key = self.fresh(f"{name}_")
            head = f"{key}: {name}{self.arguments(coordinate, gql_field)}"
        else:
            key = name
            if coordinate not in self.canonical:
                self.canonical[coordinate] = self.arguments(coordinate, gql_field)
            head = name + self.canonical[coordinate]
        text = head + self.directive()
        self.budget -= 1
        if _is_composite(gql_field):
            text += " " + self.selection_set(_composite(gql_field), depth + 1)
        return text, (key, head, gql_field)

    def pick_field(self, parent: Composite, depth: int) -> tuple[str, GraphQLField | None]:
        fields = {} if isinstance(parent, GraphQLUnionType) else parent.fields
        names = [n for n in fields if f"{parent.name}.{n}" not in NOT_GENERATED]
        deep = depth >= self.max_depth or self.budget <= 0
        if deep:
            names = [n for n in names if is_leaf_type(get_named_type(fields[n].type))]
        if not names or self.rng.random() < 0.04:
            return "__typename", None
        name = self.rng.choice(names)
        return name, fields[name]

    def inline_fragment(self, parent: Composite, depth: int) -> str:
        if self.rng.random() >= 0.7:
            return f"...{self.directive()} {self.selection_set(parent, depth)}"
        on = self.condition(parent)
        return f"... on {on.name}{self.directive()} {self.selection_set(on, depth)}"

    def spread(self, parent: Composite, depth: int) -> str:
        known = [f for f in self.done if f.on == parent.name]
        if known and self.rng.random() < 0.5:
            fragment = self.rng.choice(known)
        else:
            on = self.condition(parent)
            fragment = _Fragment(self.fresh("F"), on.name)
            body = self.selection_set(on, depth)
            self.fragments.append(f"fragment {fragment.name} on {on.name} {body}")
            self.done.append(fragment)
        return f"...{fragment.name}{self.directive()}"

    def condition(self, parent: Composite) -> Composite:
        """A fragment's type condition where `parent` is selected: `parent` itself, or a type
        whose objects overlap with it (drawn only where there is one: same documents else)."""
        others = _overlapping(self.schema, parent)
        if not others or self.rng.random() < 0.4:
            return parent
        return self.rng.choice(others)

    # -- arguments, variables, directives ---------------------------------------------

    def arguments(self, coordinate: str, gql_field: GraphQLField) -> str:
        given: list[str] = []
        for arg_name, arg in gql_field.args.items():
            required = isinstance(arg.type, GraphQLNonNull)
            if required or self.rng.random() < 0.45:
                given.append(f"{arg_name}: {self.argument(coordinate, arg_name, arg)}")
        return f"({', '.join(given)})" if given else ""

    def argument(self, coordinate: str, arg_name: str, arg: GraphQLArgument) -> str:
        value = self.value_for(coordinate, arg_name, arg.type)
        if self.rng.random() < 0.3:
            return self.variable(arg.type, value)
        return _literal(value, get_named_type(arg.type))

    def value_for(self, coordinate: str, arg_name: str, arg_type: GraphQLInputType) -> Any:
        named = get_named_type(arg_type)
        if isinstance(named, GraphQLEnumType):
            choices: Sequence[Any] = list(named.values)
            if not isinstance(arg_type, GraphQLNonNull):
                choices = [*choices, None]
        else:
            choices = self.values.choices(coordinate, arg_name, named.name)
        value = self.rng.choice(list(choices))
        if value is None and isinstance(arg_type, GraphQLNonNull):
            value = self.rng.choice([c for c in choices if c is not None] or ["0"])
        return value

    def variable(self, var_type: GraphQLInputType, value: Any) -> str:
        name = self.fresh("v")
        definition = f"${name}: {var_type}"
        roll = self.rng.random()
        if roll < 0.15 and not isinstance(var_type, GraphQLNonNull) and value is not None:
            definition += f" = {_literal(value, get_named_type(var_type))}"  # the default applies
        elif roll < 0.2 and not isinstance(var_type, GraphQLNonNull):
            pass  # left out, no default: the argument is null
        else:
            self.variables[name] = value
        self.var_defs.append(definition)
        return f"${name}"

    def directive(self) -> str:
        roll = self.rng.random()
        if roll >= 0.12:
            return ""
        which = "skip" if self.rng.random() < 0.5 else "include"
        if roll < 0.03:
            return f" @{which}(if: {'true' if self.rng.random() < 0.5 else 'false'})"
        name = self.fresh("b")
        self.var_defs.append(f"${name}: Boolean!")
        self.variables[name] = self.rng.random() < 0.5
        return f" @{which}(if: ${name})"

    def document(self, seed: int) -> Document:
        query = self.schema.query_type
        assert query is not None
        body = self.selection_set(query, 0)
        defs = f"({', '.join(self.var_defs)})" if self.var_defs else ""
        head = f"query Q{seed}{defs} " if defs or self.rng.random() < 0.5 else ""
        text = "\n".join([head + body, *self.fragments])
        return Document(seed=seed, text=text, variables=dict(self.variables))


def _is_composite(gql_field: GraphQLField) -> bool:
    return isinstance(get_named_type(gql_field.type), Composite)


def _composite(gql_field: GraphQLField) -> Composite:
    named = get_named_type(gql_field.type)
    assert isinstance(named, Composite)
    return named


def _overlapping(schema: GraphQLSchema, parent: Composite) -> list[Composite]:
    """The types a fragment may name inside `parent` besides `parent`: an object's interfaces
    and unions, an abstract type's possible types and the interfaces that implement it."""
    if isinstance(parent, GraphQLObjectType):
        unions = [
            t
            for t in schema.type_map.values()
            if isinstance(t, GraphQLUnionType) and parent in t.types
        ]
        return [*parent.interfaces, *unions]
    found: list[Composite] = list(schema.get_possible_types(parent))
    if isinstance(parent, GraphQLInterfaceType):
        found.extend(schema.get_implementations(parent).interfaces)
    return found


def _literal(value: Any, named: Any) -> str:
    if value is None:
        return "null"
    if isinstance(named, GraphQLEnumType):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # JSON strings and numbers are GraphQL literals too


# Fields the generator leaves out: `Query.reconciliation` scans both systems whole on every
# call, the others read the gateway's reconciliation store (their own tests: tests/reconcile/);
# `Query.syncStatus` reads the gateway's sync inbox, not graph data. The differential compares
# executors on graph data.
NOT_GENERATED = frozenset(
    {
        "Query.reconciliation",
        "Query.reconciliationFindings",
        "Query.reconciliationRun",
        "Query.syncStatus",
    }
)


def generate(
    schema: GraphQLSchema, *, seed: int, values: ArgumentValues, budget: int = 40
) -> Document:
    """The document of `seed`: at most about `budget` fields, depth 2 to 8."""
    return _Generator(schema, random.Random(seed), values, budget).document(seed)
