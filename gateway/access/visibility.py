"""The per-role schema: what a caller's scopes may query, for validation and introspection.

`visible_schema(schema, policy, scopes)` keeps only the fields a caller holding `scopes` may
read (masked fields included) and the types reachable through them; it is built once per
scope set (and the roles that masks name), with the full schema's own scalars. In the
policy's "hide" mode an authenticated caller's document is validated against it
(`validated_against`), so a field or type the caller may not see reads exactly like one that
does not exist: same message, no hidden type named, no hidden name suggested. Introspection
is answered from it. In the other modes validation uses the full schema and suggestions are
rewritten (`scrub_errors`) so they never name what the caller cannot see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    DefinitionNode,
    DocumentNode,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    ValidationRule,
    build_ast_schema,
    get_named_type,
    parse,
    print_schema,
    validate,
)
from graphql.pyutils import did_you_mean

from gateway.access import Decider
from gateway.access.policy import Policy
from schema.principal import Principal

_CacheKey = tuple[int, frozenset[str], frozenset[str]]
# An entry holds its policy, so the policy's id() in the key cannot be reused by another one.
_Entry = tuple[Policy, GraphQLSchema]
_CACHE: WeakKeyDictionary[GraphQLSchema, dict[_CacheKey, _Entry]] = WeakKeyDictionary()
# Per policy: the scopes it names and the roles its masks name (read on every request).
_POLICY_NAMES: dict[int, tuple[Policy, frozenset[str], frozenset[str]]] = {}


def visible_schema(
    schema: GraphQLSchema, policy: Policy, scopes: Iterable[str], *, roles: Iterable[str] = ()
) -> GraphQLSchema:
    """The schema restricted to what `scopes` may query (cached per scope set).

    `roles` matter only for masks granted to named roles (`mask_roles`): a masked field is
    visible, since it can be queried.
    """
    known_scopes, known_roles = _names(policy)
    held = frozenset(scopes) & known_scopes  # token scopes the policy ignores: one entry
    mask_roles = frozenset(roles) & known_roles
    per_schema = _CACHE.setdefault(schema, {})
    key = (id(policy), held, mask_roles)
    found = per_schema.get(key)
    if found is None:
        found = per_schema[key] = (policy, _build(schema, policy, held, mask_roles))
    return found[1]


def _names(policy: Policy) -> tuple[frozenset[str], frozenset[str]]:
    found = _POLICY_NAMES.get(id(policy))
    if found is None or found[0] is not policy:
        found = _POLICY_NAMES[id(policy)] = (policy, _known_scopes(policy), _mask_roles(policy))
    return found[1], found[2]


def _known_scopes(policy: Policy) -> frozenset[str]:
    types = policy.types.values()
    needed = [t.requires for t in types] + [f.requires for t in types for f in t.fields.values()]
    return policy.scopes.union(*(requirement.scopes() for requirement in needed))


def _mask_roles(policy: Policy) -> frozenset[str]:
    rules = (f for t in policy.types.values() for f in t.fields.values())
    return frozenset().union(*(f.mask_roles for f in rules))


def _allowed_fields(schema: GraphQLSchema, decider: Decider) -> dict[str, set[str]]:
    """Reachable object/interface types → the fields kept, walking from the roots."""
    kept: dict[str, set[str]] = {}
    pending: list[GraphQLNamedType] = [
        t
        for t in (schema.query_type, schema.mutation_type, schema.subscription_type)
        if t is not None
    ]
    while pending:
        named = pending.pop()
        if named.name in kept:
            continue
        if isinstance(named, GraphQLObjectType):
            fields = {f for f in named.fields if decider.decide(named, f).verdict != "deny"}
            kept[named.name] = fields
            for f in fields:
                pending += _referenced(named.fields[f])
        elif isinstance(named, GraphQLAbstractType):
            kept[named.name] = set()
            pending += schema.get_possible_types(named)
        elif isinstance(named, GraphQLInputObjectType):
            kept[named.name] = set(named.fields)
            pending += [get_named_type(f.type) for f in named.fields.values()]
        else:
            kept[named.name] = set()
    _settle(schema, kept)
    return kept


def _settle(schema: GraphQLSchema, kept: dict[str, set[str]]) -> None:
    """Interfaces keep the fields all their kept implementers keep; empty objects and unions
    with no kept member go, and so do the fields that return them."""
    for name in list(kept):
        named = schema.get_type(name)
        if isinstance(named, GraphQLInterfaceType):
            impls = [t.name for t in schema.get_possible_types(named) if t.name in kept]
            kept[name] = set(named.fields).intersection(*(kept[i] for i in impls))
    while empty := [n for n in kept if _empty(schema, kept, n)]:
        for name in empty:
            del kept[name]
        for name, fields in kept.items():
            named = schema.get_type(name)
            if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
                fields -= {f for f in fields if get_named_type(named.fields[f].type).name in empty}


def _empty(schema: GraphQLSchema, kept: dict[str, set[str]], name: str) -> bool:
    named = schema.get_type(name)
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        return not kept[name]
    if isinstance(named, GraphQLUnionType):
        return not any(member.name in kept for member in named.types)
    return False


def _referenced(gql_field: GraphQLField) -> list[GraphQLNamedType]:
    types = [gql_field.type, *(a.type for a in gql_field.args.values())]
    return [get_named_type(t) for t in types]


def _filter(definition: DefinitionNode, kept: dict[str, set[str]]) -> DefinitionNode | None:
    if isinstance(definition, SchemaDefinitionNode):
        ops = tuple(o for o in definition.operation_types if kept.get(o.type.name.value))
        return SchemaDefinitionNode(
            description=definition.description,
            directives=definition.directives,
            operation_types=ops,
        )
    if not isinstance(definition, TypeDefinitionNode):
        return definition
    name = definition.name.value
    if name not in kept:
        return None
    if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
        fields = tuple(f for f in definition.fields or () if f.name.value in kept[name])
        if not fields:
            return None
        interfaces = tuple(i for i in definition.interfaces or () if i.name.value in kept)
        return type(definition)(
            name=definition.name,
            description=definition.description,
            directives=definition.directives,
            interfaces=interfaces,
            fields=fields,
        )
    if isinstance(definition, UnionTypeDefinitionNode):
        members = tuple(t for t in definition.types or () if t.name.value in kept)
        return UnionTypeDefinitionNode(
            name=definition.name,
            description=definition.description,
            directives=definition.directives,
            types=members,
        )
    return definition


def _build(
    schema: GraphQLSchema, policy: Policy, scopes: frozenset[str], roles: frozenset[str]
) -> GraphQLSchema:
    viewer = Principal(subject="<introspection>", roles=roles, scopes=scopes)
    kept = _allowed_fields(schema, Decider(policy, viewer, schema))
    for name in _directive_argument_types(schema):
        kept.setdefault(name, set())
    document = parse(print_schema(schema))
    definitions = [d for d in (_filter(d, kept) for d in document.definitions) if d is not None]
    built = build_ast_schema(DocumentNode(definitions=tuple(definitions)), assume_valid_sdl=True)
    _keep_scalars(built, schema)
    return built


def _directive_argument_types(schema: GraphQLSchema) -> set[str]:
    """The input types the schema's directives take (a subgraph's `@key` takes `_FieldSet`):
    the visible schema keeps the directives, so it keeps their argument types."""
    return {
        get_named_type(argument.type).name
        for directive in schema.directives
        for argument in directive.args.values()
    }


def _keep_scalars(visible: GraphQLSchema, full: GraphQLSchema) -> None:
    """Custom scalars parse and serialize as in the full schema (SDL carries only their
    names): a bad DateTime literal fails validation in both alike."""
    for name, named in visible.type_map.items():
        original = full.get_type(name)
        if isinstance(named, GraphQLScalarType) and isinstance(original, GraphQLScalarType):
            named.serialize = original.serialize  # type: ignore[method-assign]
            named.parse_value = original.parse_value  # type: ignore[method-assign]
            named.parse_literal = original.parse_literal  # type: ignore[method-assign]


@lru_cache(maxsize=64)
def validated_against(
    visible: GraphQLSchema, rules: tuple[type[ValidationRule], ...]
) -> type[ValidationRule]:
    """One validation rule that validates the document against `visible` with `rules`.

    Put in place of an operation's rules, whoever validates (strawberry, or the operation
    limits' cached validation) reports exactly what the visible schema would; its
    `validates_against` tells the limits which schema to measure cost on.
    """

    class VisibleSchemaValidation(ValidationRule):
        validates_against = visible

        def enter_document(self, node: DocumentNode, *_args: Any) -> bool:
            for error in validate(visible, node, rules):
                self.report_error(error)
            return False  # nothing below needs visiting: the rules above saw it all

    return VisibleSchemaValidation


_SUGGESTION = re.compile(r" Did you mean (?P<sub>[^']*?)(?P<names>'.*')\?$")
_ON_TYPE = re.compile(r"on type '(?P<type>[_A-Za-z][_0-9A-Za-z]*)'")


def _visible_names(visible: GraphQLSchema, message: str) -> set[str]:
    on_type = _ON_TYPE.search(message)
    if on_type is not None:
        named = visible.get_type(on_type.group("type"))
        fields = getattr(named, "fields", None) or {}
        return set(fields) | set(visible.type_map)
    names = set(visible.type_map)
    for named in visible.type_map.values():
        for name, gql_field in (getattr(named, "fields", None) or {}).items():
            names.add(name)
            names.update(getattr(gql_field, "args", {}) or {})
    return names


def scrub_message(message: str, visible: GraphQLSchema) -> str:
    """Drop suggested names the caller may not see; keep the rest of the message."""
    match = _SUGGESTION.search(message)
    if match is None:
        return message
    suggested = re.findall(r"'([^']*)'", match.group("names"))
    allowed = _visible_names(visible, message)
    kept = [name for name in suggested if name in allowed]
    sub = match.group("sub").strip() or None
    return message[: match.start()] + did_you_mean(kept, sub)


def scrub_errors(errors: Sequence[GraphQLError], visible: GraphQLSchema) -> list[GraphQLError]:
    """The same errors with their suggestions recomputed against the visible schema."""
    scrubbed: list[GraphQLError] = []
    for error in errors:
        message = scrub_message(error.message, visible)
        if message == error.message:
            scrubbed.append(error)
            continue
        scrubbed.append(
            GraphQLError(
                message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                original_error=error.original_error,
                extensions=error.extensions,
            )
        )
    return scrubbed
