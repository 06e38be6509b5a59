"""Checking an access policy against the schema: unknown scopes, types, fields, masks,
roles and uncovered types or root fields. The gateway runs `check_policy` at startup.

This module reads the policy's data (`gateway.access.policy`); the policy does not know it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graphql import GraphQLObjectType, GraphQLSchema, GraphQLString, get_named_type

from gateway.access.policy import MASKS, ROOT_TYPES, FieldRule, Policy, PolicyError, root_aliases


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def _object_types(schema: GraphQLSchema) -> dict[str, GraphQLObjectType]:
    """Object types by their policy name (root types as Query / Mutation / Subscription)."""
    aliases = root_aliases(schema)
    return {
        aliases.get(name, name): t
        for name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
    }


def _check_scopes(policy: Policy) -> Iterable[str]:
    for role, scopes in sorted(policy.roles.items()):
        for scope in sorted(scopes - policy.scopes):
            yield f"role {role!r} grants unknown scope {scope!r}; add it under [scopes] or fix it"
    for name, rule in sorted(policy.types.items()):
        reqs = [(f"types.{name}", rule.requires)]
        reqs += [(f"types.{name}.fields.{f}", r.requires) for f, r in rule.fields.items()]
        for where, req in reqs:
            for scope in sorted(req.scopes() - policy.scopes):
                yield f"{where} requires unknown scope {scope!r}; add it under [scopes] or fix it"


def _check_types(policy: Policy, objects: Mapping[str, GraphQLObjectType]) -> Iterable[str]:
    for name, rule in sorted(policy.types.items()):
        if name not in objects and rule.optional:
            continue
        if name not in objects:
            yield f"types.{name} names a type the schema does not have; remove it or fix the name"
            continue
        for fname, frule in sorted(rule.fields.items()):
            problem = _field_problem(policy, objects[name], fname, frule)
            if problem is not None:
                yield f"types.{name}.fields.{fname}: {problem}"


def _field_problem(
    policy: Policy, owner: GraphQLObjectType, fname: str, frule: FieldRule
) -> str | None:
    gql_field = owner.fields.get(fname)
    if gql_field is None:
        return None if frule.optional else f"{owner.name} has no field {fname!r}; remove the rule"
    if frule.mask is not None and frule.mask not in MASKS:
        return f"unknown mask {frule.mask!r}; use {', '.join(sorted(MASKS))}"
    unknown_roles = frule.mask_roles - set(policy.roles)
    if unknown_roles:
        return f"mask_roles names unknown roles {', '.join(sorted(unknown_roles))}"
    if frule.mask is not None and get_named_type(gql_field.type) is not GraphQLString:
        return "masks apply to String fields only"
    return None


def _check_references(policy: Policy, objects: Mapping[str, GraphQLObjectType]) -> Iterable[str]:
    """[inherit] names, row rules and [audit] fields must name what the schema has."""
    for pattern in policy.inherit:
        if not _is_glob(pattern) and pattern not in objects:
            yield f"[inherit] types names {pattern!r}, which the schema does not have; remove it"
    for row in policy.row_rules:
        target = objects.get(row.type)
        if target is None or row.field not in target.fields:
            yield f"row rule {row.type}.{row.field}: no such type or field in the schema"
        for role in sorted(row.roles - set(policy.roles)):
            yield f"row rule {row.type}.{row.field} names unknown role {role!r}"
    for coordinate in sorted(policy.audit_fields):
        tname, _, fname = coordinate.partition(".")
        if tname not in objects or fname not in objects[tname].fields:
            yield f"[audit] fields names {coordinate!r}, which the schema does not have"


def _check_coverage(policy: Policy, objects: Mapping[str, GraphQLObjectType]) -> Iterable[str]:
    for name in sorted(objects):
        if name not in policy.types and not policy.is_inherit(name):
            yield (
                f"type {name} has no rule (default deny); add [types.{name}] requires = [[...]] "
                f"or list it under [inherit] types"
            )
    for root in ROOT_TYPES:
        if root not in objects:
            continue
        for fname in sorted(objects[root].fields):
            if policy.field_rule(root, fname) is None:
                yield f"root field {root}.{fname} has no rule; add it under [types.{root}.fields]"


def problems_of(policy: Policy, schema: GraphQLSchema) -> list[str]:
    """Every fault of `policy` against `schema`, each naming the rule and the fix."""
    objects = _object_types(schema)
    problems = list(_check_scopes(policy))
    problems += _check_types(policy, objects)
    problems += _check_references(policy, objects)
    problems += _check_coverage(policy, objects)
    return problems


def check_policy(policy: Policy, schema: GraphQLSchema) -> None:
    """Check every rule against a graphql-core schema; PolicyError names the first fault."""
    problems = problems_of(policy, schema)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise PolicyError(f"{policy.source}: {problems[0]}{more}", problems=problems)
