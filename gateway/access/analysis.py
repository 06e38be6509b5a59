"""The request's one analysis: the access policy read once, before the operation executes.

`analyse_request` is the only place a request's row filters and field verdicts are computed.
The access extension calls it in `on_execute` (after validation, before any resolver) and
hands the result to the context (`GatewayContext.analysed`); a view export calls it once for
its view (`gateway.views.plan`) and every page runs on that analysis. Everything after it
reads the frozen `schema.analysis.RequestAnalysis`: nothing decides again.

    analysis = analyse_request(policy, principal, schema, document, query=text)
    analysis.denials, analysis.row_filters, analysis.decision("Customer", "email")

A repeated document is not walked again (`SharedAnalyses`, used by the access extension):
the verdicts depend on the document, the operation and the caller's authentication, roles and
scopes only, so requests that agree on all of them share one walk. The caller's own parts,
the principal and the row filters (from its claims), are set on every request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from types import MappingProxyType

from graphql import DocumentNode, GraphQLObjectType, GraphQLSchema, get_named_type

from gateway.access import INTROSPECTION_ROOTS, Decider, analyse_operation, row_filters
from gateway.access.policy import Policy
from gateway.lru import Lru
from schema.analysis import FieldDecision, RequestAnalysis, RowFilters
from schema.principal import Principal


def analyse_request(
    policy: Policy,
    principal: Principal,
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    query: str | None = None,
    operation_name: str | None = None,
) -> RequestAnalysis:
    """Walk the operation once and record every verdict the request will need.

    `query` is the document's text (the analysis then serves that document again, e.g. the
    pages of an export); `operation_name` picks the operation as GraphQL does.
    """
    decider = Decider(policy, principal, schema)
    walk = analyse_operation(document, decider, operation_name)
    filters = row_filters(policy, principal)
    decisions: dict[str, FieldDecision] = {}
    attention: set[str] = set()
    audited: set[str] = set()
    for parent, name in walk.reached:
        coordinate = f"{parent.name}.{name}"
        verdict = decider.decide(parent, name)
        if verdict.verdict != "allow":
            decisions[coordinate] = verdict
        if coordinate in policy.audit_fields:
            audited.add(coordinate)
        if _attention(parent, name, verdict, filters, coordinate in audited):
            attention.add(coordinate)
    return RequestAnalysis(
        principal=principal,
        row_filters=filters,
        decisions=MappingProxyType(decisions),
        denials=walk.denials,
        attention=frozenset(attention),
        audited=frozenset(audited),
        complete=walk.complete,
        paths=MappingProxyType(dict(walk.paths)) if walk.complete else None,
        document=query,
        operation_name=operation_name,
    )


def _attention(
    parent: GraphQLObjectType,
    name: str,
    verdict: FieldDecision,
    filters: RowFilters,
    audited: bool,
) -> bool:
    """Whether `parent.name` needs the field hook: denied, masked, row-filtered, audited, or
    introspection (answered from the caller's visible schema)."""
    if name in INTROSPECTION_ROOTS or name.startswith("__"):
        return name != "__typename"
    if verdict.verdict != "allow" or audited:
        return True
    gql_field = parent.fields.get(name)
    return gql_field is None or get_named_type(gql_field.type).name in filters


SHARED_ANALYSES = 256  # (document, operation, access profile) pairs whose walk is kept


class SharedAnalyses:
    """The analyses of repeated documents, bounded (least recently used dropped first).

    A hit costs a dictionary lookup and the caller's row filters instead of a walk of the
    operation and a verdict per `Type.field`: 1.7 ms of a W1 request's 22.6 ms (7.5 % of
    its CPU, sampled with `bench.cpu_sample --workload w1`). The key holds everything the
    walk reads: the policy (its identity: one cache per extension class), the schema (its
    identity), the document's text and operation name, and the caller's authentication,
    roles (masks, and which types have row rules) and scopes. Nothing else of the
    principal reaches a verdict; its claims reach only the row filters, made per request.
    """

    def __init__(self, policy: Policy, size: int = SHARED_ANALYSES) -> None:
        self.policy = policy
        self._kept: Lru[Hashable, RequestAnalysis] = Lru(size)

    def analyse(
        self,
        principal: Principal,
        schema: GraphQLSchema,
        document: DocumentNode,
        *,
        query: str,
        operation_name: str | None,
    ) -> RequestAnalysis:
        """`analyse_request` for `query`'s document, walked once per access profile."""
        key = (
            schema,  # by identity (GraphQLSchema has no __eq__)
            query,
            operation_name,
            principal.authenticated,
            principal.roles,
            principal.scopes,
        )
        found = self._kept.get(key)
        if found is None:
            made = analyse_request(
                self.policy, principal, schema, document, query=query, operation_name=operation_name
            )
            return self._kept.put(key, made)
        filters = row_filters(self.policy, principal)
        return dataclasses.replace(found, principal=principal, row_filters=filters)

    def clear(self) -> None:
        self._kept.clear()
