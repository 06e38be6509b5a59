from __future__ import annotations

import time

import pytest
from graphql import (
    GraphQLError,
    build_schema,
    get_introspection_query,
    parse,
    specified_rules,
    validate,
)

from gateway.protection.cost import OperationMetrics
from gateway.protection.limits import (
    LimitPolicy,
    Limits,
    check_document,
    limit_rule,
    measure_operations,
    parse_limited,
    prescan,
)

# A subset of the DESIGN.md contract: connections, plain lists, nested lists.
SDL = """
type Money { amount: String! currency: String! }
type PageInfo { hasNextPage: Boolean! endCursor: String }
type Customer { id: ID! name: String! orders(first: Int = 20, after: String): OrderConnection }
type CustomerEdge { cursor: String! node: Customer! }
type CustomerConnection { edges: [CustomerEdge!]! nodes: [Customer!]! pageInfo: PageInfo! }
type OrderLine { sku: String! quantity: Float! unitPrice: Money! }
type Order { id: ID! number: String! customer: Customer lines: [OrderLine!]! total: Money! }
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }
type Warehouse { id: ID! name: String! }
type Query {
  customer(id: ID!): Customer
  customers(first: Int = 20, after: String, search: String): CustomerConnection
  orders(first: Int = 20, after: String): OrderConnection
  warehouses: [Warehouse!]
}
"""
SCHEMA = build_schema(SDL)
LIMITS = Limits()


def errors_for(query: str, limits: Limits = LIMITS, **variables: object) -> list[GraphQLError]:
    return check_document(SCHEMA, parse_limited(query, limits), limits, variables=variables)


def codes(errors: list[GraphQLError]) -> list[str]:
    return [(e.extensions or {})["code"] for e in errors]


def nested(depth: int) -> str:
    return (
        "{"
        + "customer(id: 1) { orders { nodes { customer(id: 1) { " * depth
        + "id"
        + "}" * (4 * depth)
        + "}"
    )


def alias_query(count: int) -> str:
    return "{" + " ".join(f"a{n}: warehouses {{ id }}" for n in range(count)) + "}"


def raises_limit(query: str, limits: Limits = LIMITS) -> GraphQLError:
    """The first limit error, whether raised while parsing or reported after."""
    try:
        errors = errors_for(query, limits)
    except GraphQLError as error:
        return error
    assert errors, "expected a limit error"
    return errors[0]


# Each row: a hostile operation, the code it must get, and (in the comment) why it is here.
HOSTILE = [
    # nesting 10,000 deep: refused by the pre-scan before the recursive parser runs
    ("{" + "a{" * 10_000 + "b" + "}" * 10_001, "QUERY_TOO_DEEP"),
    # deep nesting inside an argument value (lists), which also recurses in parsers
    (
        "{ customers(search: " + "[" * 5_000 + '"x"' + "]" * 5_000 + ") { nodes { id } } }",
        "QUERY_TOO_DEEP",
    ),
    # just over the depth limit, within the bracket allowance: measured on the AST
    (nested(4), "QUERY_TOO_DEEP"),
    # 10,000 aliases of one cheap field: alias-based amplification
    ("{" + " ".join(f"a{n}: __typename" for n in range(10_000)) + "}", "QUERY_TOO_LARGE"),
    # 1,000 aliases stay under the token limit: the alias rule catches them
    ("{" + " ".join(f"a{n}: __typename" for n in range(1_000)) + "}", "TOO_MANY_ALIASES"),
    # many distinct root fields, each a separate backend call
    ("{" + " ".join(["warehouses { id }"] * 21) + "}", "TOO_MANY_ROOT_FIELDS"),
    # a nested list of lists: 100 customers × 100 orders × their lines
    (
        "{ customers(first: 100) { nodes { orders(first: 100) { nodes { id } } } } }",
        "QUERY_TOO_COMPLEX",
    ),
    # a 10 MB string literal that did not come through the HTTP guard: never scanned or parsed
    ('{ customers(search: "' + "x" * 10_000_000 + '") { nodes { id } } }', "REQUEST_TOO_LARGE"),
    # a flood of comments (not lexical tokens, but still parsed)
    ("{ warehouses { id } }" + "\n#" * 6_000, "QUERY_TOO_LARGE"),
]


@pytest.mark.parametrize(("query", "code"), HOSTILE)
def test_hostile_operations_get_their_limit_code(query: str, code: str) -> None:
    started = time.process_time()  # CPU spent by this process: the machine's load does not count
    error = raises_limit(query)
    assert error.extensions is not None
    assert error.extensions["code"] == code
    limit, measured = error.extensions["limit"], error.extensions["measured"]
    assert measured > limit
    assert str(limit) in error.message
    assert str(measured) in error.message
    assert time.process_time() - started < 2.0


def test_a_fragment_cycle_is_measured_without_recursing_forever() -> None:
    query = """
    { customers { nodes { ...A } } }
    fragment A on Customer { orders { nodes { customer { ...B } } } }
    fragment B on Customer { ...A }
    """
    assert errors_for(query) == []
    rules = (*specified_rules, limit_rule(LIMITS))
    messages = [e.message for e in validate(SCHEMA, parse(query), rules)]
    assert messages == ["Cannot spread fragment 'A' within itself via 'B'."]


def test_a_fragment_bomb_counts_every_expanded_alias_quickly() -> None:
    fragments = [f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(60)]
    fragments.append("fragment F60 on Query { w: warehouses { id } }")
    query = "{ ...F0 }\n" + "\n".join(fragments)
    error = raises_limit(query)
    assert error.extensions is not None
    assert error.extensions["measured"] == 2**60


def test_a_long_fragment_chain_does_not_hit_the_recursion_limit() -> None:
    fragments = [f"fragment F{n} on Query {{ ...F{n + 1} }}" for n in range(1_500)]
    fragments.append("fragment F1500 on Query { warehouses { id } }")
    query = "{ ...F0 }\n" + "\n".join(fragments)
    assert errors_for(query, Limits(max_tokens=50_000)) == []


def test_cost_multiplies_nested_first_arguments() -> None:
    query = "{ customers(first: 100) { nodes { orders(first: 100) { nodes { id } } } } }"
    error = raises_limit(query)
    assert error.extensions is not None
    assert error.extensions["measured"] >= 10_000


def test_cost_reads_first_from_variables() -> None:
    query = "query($n: Int) { customers(first: $n) { nodes { orders { nodes { id } } } } }"
    assert errors_for(query, n=5) == []
    assert codes(errors_for(query, n=10_000)) == ["QUERY_TOO_COMPLEX"]


def test_cost_reads_first_from_a_variables_default_when_the_request_omits_it() -> None:
    query = """query($n: Int = 200) {
                 customers(first: $n) { nodes { orders(first: $n) { nodes { id } } } } }"""
    assert codes(errors_for(query)) == ["QUERY_TOO_COMPLEX"]  # 200 x 200, not 20 x 20
    assert errors_for(query, n=5) == []  # a value sent wins over the default
    fragment = """query Small($n: Int = 1) { ...C } query Big($n: Int = 200) { ...C }
                  fragment C on Query { customers(first: $n) { nodes { orders(first: $n) {
                    nodes { id } } } } }"""
    assert codes(errors_for(fragment)) == ["QUERY_TOO_COMPLEX"] * 2  # the largest default


# Each row: an operation and its exact metrics, to pin the cost model down.
METRICS = [
    # a leaf root field
    ("{ warehouses { id } }", OperationMetrics(depth=2, root_fields=1, cost=1 + 20)),
    # the default first (20) of a connection; nodes do not multiply again
    ("{ customers { nodes { id } } }", OperationMetrics(depth=3, root_fields=1, cost=1 + 20 * 2)),
    # edges and nodes count once per item
    (
        "{ c: customers(first: 2) { edges { node { id } } pageInfo { hasNextPage } } }",
        OperationMetrics(depth=4, aliases=1, root_fields=1, cost=1 + 2 * (1 + 2 + 2)),
    ),
    # introspection is exempt from depth and cost (MaxIntrospectionDepthRule bounds it)
    (
        "{ __schema { types { fields { type { ofType { name } } } } } }",
        OperationMetrics(depth=0, root_fields=1, cost=1),
    ),
]


@pytest.mark.parametrize(("query", "expected"), METRICS)
def test_metrics_follow_the_cost_model(query: str, expected: OperationMetrics) -> None:
    assert measure_operations(SCHEMA, parse(query), LIMITS) == [expected]


def test_a_query_within_all_limits_has_no_errors() -> None:
    query = "{ customers(first: 10) { nodes { name orders(first: 5) { nodes { number } } } } }"
    assert errors_for(query) == []


def test_prescan_ignores_brackets_inside_strings_block_strings_and_comments() -> None:
    source = '{ a(x: "{{{[[[", y: """ {{{ \\""" ((( """) # {{{{\n }'
    assert prescan(source) == (2, 1)


def test_a_validation_rule_reports_limits_in_graphql_core_validate() -> None:
    limits = Limits(max_root_fields=100)
    errors = validate(SCHEMA, parse(alias_query(31)), [limit_rule(limits)])
    assert codes(errors) == ["TOO_MANY_ALIASES"]


def test_a_role_override_raises_limits_and_several_roles_get_the_most_generous() -> None:
    policy = LimitPolicy(
        default=Limits(max_depth=5),
        by_role={"analyst": Limits(max_cost=100_000), "admin": Limits(max_depth=20)},
    )
    assert policy.for_roles(["partner"]).max_depth == 5
    both = policy.for_roles(["analyst", "admin"])
    assert (both.max_depth, both.max_cost) == (20, 100_000)


def test_graphiqls_introspection_query_passes_the_default_limits() -> None:
    assert errors_for(get_introspection_query(descriptions=True)) == []
