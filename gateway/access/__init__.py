"""Access decisions: one mechanism reading the policy, applied to a whole operation.

`Decider` answers "may this principal read `Type.field`?" (allow, mask or deny with the
scopes that would allow it). `analyse_operation` walks an operation — fragments, inline
fragments and aliases included — before anything runs: every denied response path and every
`(type, field)` it reaches. `row_filters` turns the policy's row rules and the caller's
claims into backend filters. `gateway.access.analysis.analyse_request` puts these together
into the request's one `schema.analysis.RequestAnalysis`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)

from gateway.access.policy import ROOT_TYPES, Policy, root_aliases
from resolvers.errors import CrossdockError
from schema.analysis import ALLOW, AUTHENTICATED, NEVER, Denial, FieldDecision, Requirement
from schema.principal import Principal

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


class Forbidden(CrossdockError):
    """The caller's scopes do not allow this field; `requiredScopes` lists what would."""

    code = "FORBIDDEN"

    def __init__(self, coordinate: str, required: Requirement) -> None:
        super().__init__(
            f"Not allowed to read {coordinate}.",
            code=self.code,
            requiredScopes=required.as_lists(),
        )
        self.required = required


class Decider:
    """Per-request verdicts for one principal, cached by `(type, field)`."""

    def __init__(self, policy: Policy, principal: Principal, schema: GraphQLSchema) -> None:
        self.policy = policy
        self.principal = principal
        self.schema = schema
        self._cache: dict[tuple[str, str], FieldDecision] = {}
        self._aliases = root_aliases(schema)

    def decide(self, parent: GraphQLObjectType, field_name: str) -> FieldDecision:
        key = (parent.name, field_name)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._decide(parent, field_name)
        return found

    def allows(self, requirement: Requirement) -> bool:
        p = self.principal
        return p.authenticated and requirement.satisfied_by(p.scopes)

    def _decide(self, parent: GraphQLObjectType, field_name: str) -> FieldDecision:
        if field_name == "__typename" or parent.name.startswith("__"):
            return ALLOW  # introspection types: the gate is at __schema / __type
        if field_name in INTROSPECTION_ROOTS:
            return ALLOW if self.principal.authenticated else FieldDecision("deny")
        gql_field = parent.fields.get(field_name)
        if gql_field is None:
            return FieldDecision("deny", NEVER)
        policy, parent_name = self.policy, self._aliases.get(parent.name, parent.name)
        rule = policy.field_rule(parent_name, field_name)
        own = rule.requires if rule else (NEVER if parent_name in ROOT_TYPES else AUTHENTICATED)
        named = get_named_type(gql_field.type)
        target = policy.type_requirement(self._aliases.get(named.name, named.name))
        if isinstance(named, GraphQLObjectType) and target is not None:
            own = own.both(target)
        parent_req = policy.type_requirement(parent_name) or AUTHENTICATED
        if not self.allows(parent_req):
            return FieldDecision("deny", parent_req.both(own))
        if self.allows(own):
            return ALLOW
        if rule is not None and rule.mask is not None and self._masked_for(rule.mask_roles):
            return FieldDecision("mask", own, rule.mask)
        return FieldDecision("deny", own)

    def _masked_for(self, roles: frozenset[str]) -> bool:
        return self.principal.authenticated and (not roles or bool(roles & self.principal.roles))


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return ops[0] if len(ops) == 1 else None
    return next((op for op in ops if op.name is not None and op.name.value == name), None)


def _root(schema: GraphQLSchema, op: OperationDefinitionNode) -> GraphQLObjectType | None:
    roots = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }
    return roots[op.operation]


class _Walker:
    """Collects denials over an operation's selections, expanding abstract types."""

    def __init__(self, decider: Decider, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.decider = decider
        self.fragments = fragments
        self.denials: dict[tuple[str, ...], Denial] = {}
        self.reached: set[tuple[GraphQLObjectType, str]] = set()
        self.paths: dict[tuple[str, ...], set[str]] = {}  # response path → coordinates there
        self._active: set[str] = set()

    def walk(
        self,
        selections: SelectionSetNode,
        parents: Sequence[GraphQLObjectType],
        path: tuple[str, ...],
    ) -> None:
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                self._field(selection, parents, path)
            elif isinstance(selection, InlineFragmentNode):
                cond = selection.type_condition
                narrowed = self._narrow(parents, cond.name.value if cond else None)
                self.walk(selection.selection_set, narrowed, path)
            elif isinstance(selection, FragmentSpreadNode):
                self._spread(selection.name.value, parents, path)

    def _spread(
        self, name: str, parents: Sequence[GraphQLObjectType], path: tuple[str, ...]
    ) -> None:
        fragment = self.fragments.get(name)
        if fragment is None or name in self._active:  # validation rejects cycles; stay safe
            return
        self._active.add(name)
        self.walk(
            fragment.selection_set, self._narrow(parents, fragment.type_condition.name.value), path
        )
        self._active.discard(name)

    def _narrow(
        self, parents: Sequence[GraphQLObjectType], condition: str | None
    ) -> list[GraphQLObjectType]:
        if condition is None:
            return list(parents)
        possible = set(self._concrete(condition))
        return [p for p in parents if p.name in possible]

    def _concrete(self, type_name: str) -> Iterator[str]:
        schema = self.decider.schema
        named = schema.get_type(type_name)
        if isinstance(named, GraphQLObjectType):
            yield named.name
        elif isinstance(named, GraphQLAbstractType):
            yield from (t.name for t in schema.get_possible_types(named))

    def _field(
        self, node: FieldNode, parents: Sequence[GraphQLObjectType], path: tuple[str, ...]
    ) -> None:
        key = node.alias.value if node.alias else node.name.value
        here = (*path, key)
        children: list[GraphQLObjectType] = []
        for parent in parents:
            self.reached.add((parent, node.name.value))
            self.paths.setdefault(here, set()).add(f"{parent.name}.{node.name.value}")
            verdict = self.decider.decide(parent, node.name.value)
            if verdict.verdict == "deny":
                coordinate = f"{parent.name}.{node.name.value}"
                self.denials.setdefault(here, Denial(here, coordinate, verdict.required))
                continue
            gql_field = parent.fields.get(node.name.value)
            if gql_field is not None and node.selection_set is not None:
                children += self._children(get_named_type(gql_field.type))
        if (
            children
            and node.selection_set is not None
            and node.name.value not in INTROSPECTION_ROOTS
        ):
            unique = list({c.name: c for c in children}.values())
            self.walk(node.selection_set, unique, here)

    def _children(self, named: Any) -> list[GraphQLObjectType]:
        if isinstance(named, GraphQLObjectType):
            return [named]
        if isinstance(named, GraphQLAbstractType):
            return list(self.decider.schema.get_possible_types(named))
        return []


@dataclass(frozen=True, slots=True)
class Walk:
    """What an operation asks for: its denied paths, and every `(parent type, field)` it reaches
    (`gateway.access.analysis.analyse_request` turns it into the request's analysis).

    `complete` is False when the operation could not be walked (unknown operation name, no
    root type): callers must then treat every field as needing attention.
    """

    denials: tuple[Denial, ...]
    reached: frozenset[tuple[GraphQLObjectType, str]]
    complete: bool = True
    # the `Type.field` coordinates reached at each response path (several under an abstract
    # type); a denied field's children are not reached: they never run
    paths: Mapping[tuple[str, ...], frozenset[str]] = field(default_factory=dict)


INCOMPLETE = Walk(denials=(), reached=frozenset(), complete=False)


def analyse_operation(
    document: DocumentNode, decider: Decider, operation_name: str | None = None
) -> Walk:
    """Walk the operation once, before anything executes (see `Walk`)."""
    op = _operation(document, operation_name)
    if op is None:
        return INCOMPLETE
    root = _root(decider.schema, op)
    if root is None:
        return INCOMPLETE
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walker = _Walker(decider, fragments)
    walker.walk(op.selection_set, [root], ())
    paths = {path: frozenset(coordinates) for path, coordinates in walker.paths.items()}
    return Walk(tuple(walker.denials.values()), frozenset(walker.reached), paths=paths)


def analyse(
    document: DocumentNode, decider: Decider, operation_name: str | None = None
) -> list[Denial]:
    """Every denied field of the operation, by response path, before anything executes."""
    return list(analyse_operation(document, decider, operation_name).denials)


def row_filters(policy: Policy, principal: Principal) -> dict[str, dict[str, str | None]]:
    """Backend filters from the row rules that bind this principal.

    `{"Shipment": {"carrier": "DHL"}}`; a value of None means the caller holds the role but
    not the claim, so no row is visible.
    """
    filters: dict[str, dict[str, str | None]] = {}
    for rule in policy.row_rules:
        if rule.roles and not rule.roles & principal.roles:
            continue
        value = principal.claims.get(rule.claim)
        if value is None and rule.claim == "partner_id":
            value = principal.partner_id
        filters.setdefault(rule.type, {})[rule.field] = value if isinstance(value, str) else None
    return filters


def row_visible(filters: Mapping[str, str | None], record: Any) -> bool:
    """True when `record` passes every `field == value` binding (attribute or mapping key)."""
    for field_name, wanted in filters.items():
        if isinstance(record, Mapping):
            actual = record.get(field_name)
        else:
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", field_name).lower()
            actual = getattr(record, field_name, getattr(record, snake, None))
        if wanted is None or actual != wanted:
            return False
    return True
