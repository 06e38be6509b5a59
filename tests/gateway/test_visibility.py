"""The per-role schema: introspection and validation messages show only what a role may query."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSchema

from gateway.access.extension import access_extension
from gateway.access.policy import Policy
from gateway.access.visibility import scrub_message, visible_schema
from schema.principal import ANONYMOUS
from tests.gateway.contract_schema import contract_schema, principal_for, run


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.load(None)


@pytest.fixture(scope="module")
def schema(policy: Policy) -> strawberry.Schema:
    return contract_schema([access_extension(policy)])


def _fields(schema: GraphQLSchema, type_name: str) -> set[str]:
    named = schema.get_type(type_name)
    assert isinstance(named, GraphQLObjectType), type_name
    return set(named.fields)


def test_the_partner_schema_has_no_customer_data_no_prices_of_cost_and_no_mutations(
    schema: strawberry.Schema, policy: Policy
) -> None:
    visible = visible_schema(schema._schema, policy, policy.roles["partner"])
    assert _fields(visible, "Query") == {
        "product",
        "products",
        "warehouses",
        "shipment",
        "shipments",
        "viewer",
    }
    assert visible.mutation_type is None
    assert visible.get_type("Customer") is None
    assert visible.get_type("Order") is None
    assert visible.get_type("StockLevel") is None
    assert "order" not in _fields(visible, "Shipment")
    assert "value" not in _fields(visible, "Shipment")
    assert "destination" in _fields(visible, "Shipment")
    assert {"unitCost", "stock", "available"}.isdisjoint(_fields(visible, "Product"))


def test_the_analyst_schema_keeps_the_masked_email_and_finance_but_no_other_pii(
    schema: strawberry.Schema, policy: Policy
) -> None:
    visible = visible_schema(schema._schema, policy, policy.roles["analyst"], roles=["analyst"])
    customer = _fields(visible, "Customer")
    assert {"email", "creditLimit", "name", "orders"} <= customer
    assert {"phone", "billingAddress", "shippingAddress"}.isdisjoint(customer)
    assert visible.mutation_type is None


def test_the_admin_schema_is_the_whole_graph(schema: strawberry.Schema, policy: Policy) -> None:
    visible = visible_schema(schema._schema, policy, policy.roles["admin"])
    full = schema._schema
    for name, named in full.type_map.items():
        if isinstance(named, GraphQLObjectType) and not name.startswith("__"):
            assert _fields(visible, name) == set(named.fields), name


def test_visible_schemas_are_built_once_per_scope_set(
    schema: strawberry.Schema, policy: Policy
) -> None:
    first = visible_schema(schema._schema, policy, ["catalog:read", "shipments:read"])
    again = visible_schema(schema._schema, policy, ("shipments:read", "catalog:read"))
    other = visible_schema(schema._schema, policy, ["catalog:read"])
    assert first is again
    assert other is not first


def test_token_scopes_the_policy_never_names_share_one_cache_entry(
    schema: strawberry.Schema, policy: Policy
) -> None:
    plain = visible_schema(schema._schema, policy, ["catalog:read"])
    padded = [visible_schema(schema._schema, policy, ["catalog:read", f"x:{n}"]) for n in range(50)]
    assert all(v is plain for v in padded)


async def test_introspection_answers_from_the_callers_visible_schema(
    schema: strawberry.Schema, policy: Policy
) -> None:
    query = """{ __schema { types { name } mutationType { name } }
                 customer: __type(name: "Customer") { name }
                 shipment: __type(name: "Shipment") { fields { name } } }"""
    result, _ = await run(schema, query, principal_for("partner", policy))
    assert result.errors is None
    data: Any = result.data
    names = {t["name"] for t in data["__schema"]["types"]}
    assert "Shipment" in names
    assert {"Customer", "Order", "OrderLine", "PlaceOrderResult"}.isdisjoint(names)
    assert data["__schema"]["mutationType"] is None
    assert data["customer"] is None
    assert {"order", "value"}.isdisjoint(f["name"] for f in data["shipment"]["fields"])


async def test_anonymous_introspection_is_refused(schema: strawberry.Schema) -> None:
    result, _ = await run(schema, "{ __schema { types { name } } }", ANONYMOUS)
    assert result.data is None
    assert [e.extensions["code"] for e in result.errors or []] == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("role", "query", "expected"),
    [
        # analysts may not see phone: the suggestion goes, the error stays
        (
            "analyst",
            '{ customer(id: "C1") { phon } }',
            "Cannot query field 'phon' on type 'Customer'.",
        ),
        # sales may: the suggestion stays
        ("sales", '{ customer(id: "C1") { phon } }', "Did you mean 'phone'?"),
        # a partner must not learn that shipments have a value
        (
            "partner",
            '{ shipment(id: "SHIP-1") { valu } }',
            "Cannot query field 'valu' on type 'Shipment'.",
        ),
        # ...but is still helped toward what it may query
        ("partner", "{ shipmnts { nodes { id } } }", "Did you mean 'shipments' or 'shipment'?"),
    ],
)
async def test_validation_errors_never_suggest_fields_the_caller_cannot_see(
    schema: strawberry.Schema, policy: Policy, role: str, query: str, expected: str
) -> None:
    result, _ = await run(schema, query, principal_for(role, policy))
    assert result.data is None
    messages = [e.message for e in result.errors or []]
    assert len(messages) == 1
    assert messages[0] == expected or messages[0].endswith(expected)
    if expected.endswith("."):
        assert "Did you mean" not in messages[0]


def test_scrubbing_keeps_the_sub_message_of_type_suggestions(
    schema: strawberry.Schema, policy: Policy
) -> None:
    visible = visible_schema(schema._schema, policy, policy.roles["partner"])
    message = "Unknown type 'Shipmnt'. Did you mean 'Shipment' or 'Customer'?"
    assert scrub_message(message, visible) == "Unknown type 'Shipmnt'. Did you mean 'Shipment'?"
