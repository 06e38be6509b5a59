"""Enforcement on whole operations: fragments, aliases, reject mode, masks, row rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import strawberry
from graphql import parse

from gateway.access import Decider, analyse, row_filters
from gateway.access.extension import access_extension, is_operation_forbidden
from gateway.access.policy import Policy
from schema.analysis import RowFilters
from schema.principal import ANONYMOUS, Principal
from tests.gateway.contract_schema import ContractContext, contract_schema, principal_for, run


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.load(None)


@pytest.fixture(scope="module")
def schema(policy: Policy) -> strawberry.Schema:
    return contract_schema([access_extension(policy, mode="null")])


@pytest.fixture(scope="module")
def rejecting(policy: Policy) -> strawberry.Schema:
    return contract_schema([access_extension(policy, mode="reject")])


def _forbidden(result: Any) -> dict[tuple[Any, ...], Any]:
    return {
        tuple(e.path): e.extensions
        for e in result.errors or []
        if (e.extensions or {}).get("code") == "FORBIDDEN"
    }


async def test_a_denied_field_costs_no_resolver_call(
    schema: strawberry.Schema, policy: Policy
) -> None:
    query = '{ customer(id: "C1") { name phone creditLimit { amount } } }'
    result, context = await run(schema, query, principal_for("logistics", policy))
    assert result.data == {"customer": {"name": "Acme", "phone": None, "creditLimit": None}}
    assert context.calls["Customer.name"] == 1
    assert context.calls["Customer.phone"] == 0
    assert context.calls["Customer.creditLimit"] == 0
    assert context.calls["Money.amount"] == 0


async def test_a_denied_root_field_runs_nothing_below_it_and_the_rest_stands(
    schema: strawberry.Schema, policy: Policy
) -> None:
    query = "{ customers { nodes { name email } } shipments { nodes { id } } }"
    result, context = await run(schema, query, principal_for("partner", policy))
    assert result.data == {"customers": None, "shipments": {"nodes": [{"id": "SHIP-1"}]}}
    assert _forbidden(result) == {
        ("customers",): {"code": "FORBIDDEN", "requiredScopes": [["crm:read"]]}
    }
    assert not any(key.startswith(("Query.customers", "Customer.")) for key in context.calls)


async def test_aliases_fragments_and_inline_fragments_cannot_reach_a_denied_field(
    schema: strawberry.Schema, policy: Policy
) -> None:
    query = """
      query Sneaky {
        acct: customer(id: "C1") { ...Contact ... on Customer { tel: phone } }
        list: orders { nodes { customer { ... { mail: email } } } }
      }
      fragment Contact on Customer { name phone2: phone }
    """
    result, context = await run(schema, query, principal_for("logistics", policy))
    assert result.data is not None
    assert result.data["acct"] == {"name": "Acme", "tel": None, "phone2": None}
    assert set(_forbidden(result)) == {
        ("acct", "phone2"),
        ("acct", "tel"),
        ("list", "nodes", 0, "customer", "mail"),
        ("list", "nodes", 1, "customer", "mail"),
    }
    assert context.calls["Customer.phone"] == 0
    assert context.calls["Customer.email"] == 0


def test_analysis_lists_every_denied_path_by_alias_before_execution(
    schema: strawberry.Schema, policy: Policy
) -> None:
    document = parse(
        '{ a: shipment(id: "SHIP-1") { o: order { number } v: value { amount } ...F } '
        "  customers { nodes { name } } } fragment F on Shipment { destination { city } }"
    )
    decider = Decider(policy, principal_for("partner", policy), schema._schema)
    denied = {d.path: d.required.as_lists() for d in analyse(document, decider)}
    assert denied == {
        ("a", "o"): [["crm:read"]],
        ("a", "v"): [["crm:read"], ["finance:read"]],
        ("customers",): [["crm:read"]],
    }


async def test_reject_mode_refuses_the_whole_operation_listing_every_denied_path(
    rejecting: strawberry.Schema, policy: Policy
) -> None:
    query = (
        '{ customer(id: "C1") { name phone billingAddress { city } } products { nodes { sku } } }'
    )
    result, context = await run(rejecting, query, principal_for("analyst", policy))
    assert result.data is None
    assert is_operation_forbidden(result.errors)
    assert {tuple(e.path) for e in result.errors or []} == {
        ("customer", "phone"),
        ("customer", "billingAddress"),
    }
    assert all(e.extensions["requiredScopes"] == [["pii:read"]] for e in result.errors or [])
    assert sum(context.calls.values()) == 0


async def test_reject_mode_lets_an_allowed_operation_through(
    rejecting: strawberry.Schema, policy: Policy
) -> None:
    result, _ = await run(
        rejecting, '{ customer(id: "C1") { name } }', principal_for("analyst", policy)
    )
    assert result.errors is None
    assert not is_operation_forbidden(result.errors)
    assert result.data == {"customer": {"name": "Acme"}}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("analyst", "j***@example.com"),  # the mask is granted to analysts
        ("logistics", None),  # lacks pii:read and holds no mask role: plain denial
        ("sales", "jane.doe@example.com"),  # holds pii:read
    ],
)
async def test_email_is_masked_only_for_the_roles_the_policy_names(
    schema: strawberry.Schema, policy: Policy, role: str, expected: str | None
) -> None:
    result, _ = await run(schema, '{ customer(id: "C1") { email } }', principal_for(role, policy))
    assert result.data == {"customer": {"email": expected}}


def test_row_filters_bind_partners_to_their_claim_and_leave_others_alone(policy: Policy) -> None:
    assert row_filters(policy, principal_for("partner", policy)) == {"Shipment": {"carrier": "DHL"}}
    assert row_filters(policy, principal_for("partner", policy, partner_id=None)) == {
        "Shipment": {"carrier": None}
    }
    assert row_filters(policy, principal_for("sales", policy)) == {}


async def test_partner_sees_only_its_own_carriers_shipments_in_lists_and_nested_paths(
    schema: strawberry.Schema, policy: Policy
) -> None:
    query = """{ shipments { nodes { id carrier } edges { node { id } } }
                 ups: shipments(carrier: "UPS") { nodes { id } } }"""
    result, _ = await run(schema, query, principal_for("partner", policy))
    assert result.data == {
        "shipments": {
            "nodes": [{"id": "SHIP-1", "carrier": "DHL"}],
            "edges": [{"node": {"id": "SHIP-1"}}],
        },
        "ups": {"nodes": []},
    }


async def test_another_carriers_shipment_by_id_looks_exactly_like_a_missing_one(
    schema: strawberry.Schema, policy: Policy
) -> None:
    partner = principal_for("partner", policy)
    other, _ = await run(schema, '{ shipment(id: "SHIP-2") { id carrier } }', partner)
    missing, _ = await run(schema, '{ shipment(id: "NOPE") { id carrier } }', partner)
    assert other.data == missing.data == {"shipment": None}
    assert other.errors is None
    assert missing.errors is None


async def test_a_partner_without_the_claim_sees_no_shipment_at_all(
    schema: strawberry.Schema, policy: Policy
) -> None:
    partner = principal_for("partner", policy, partner_id=None)
    result, _ = await run(
        schema, '{ shipments { nodes { id } } shipment(id: "SHIP-1") { id } }', partner
    )
    assert result.data == {"shipments": {"nodes": []}, "shipment": None}


@dataclass
class FilterIgnoringContext(ContractContext):
    """A context whose resolvers never see the row filter: a buggy loader, for defence in depth."""

    def resolver_filters(self) -> RowFilters:
        return {}


async def test_rows_a_resolver_leaks_are_dropped_by_the_re_check(
    schema: strawberry.Schema, policy: Policy
) -> None:
    query = '{ shipments { nodes { id } } shipment(id: "SHIP-2") { id } }'
    partner = principal_for("partner", policy)
    result, context = await run(schema, query, partner, context_type=FilterIgnoringContext)
    assert context.resolver_filters() == {}
    assert context.analysis is not None
    assert context.analysis.row_filters == {"Shipment": {"carrier": "DHL"}}
    assert result.data == {"shipments": {"nodes": [{"id": "SHIP-1"}]}, "shipment": None}


async def test_anonymous_callers_may_read_nothing_but_typename(schema: strawberry.Schema) -> None:
    result, context = await run(schema, "{ __typename viewer { subject } }", ANONYMOUS)
    assert result.data is None  # viewer is non-null, so its denial nulls the root
    assert _forbidden(result)[("viewer",)]["requiredScopes"] == [[]]
    assert sum(context.calls.values()) == 0


async def test_token_scopes_alone_grant_access_without_any_role(schema: strawberry.Schema) -> None:
    caller = Principal(subject="svc", scopes=frozenset({"crm:read"}))
    result, _ = await run(schema, '{ customer(id: "C1") { name email } }', caller)
    assert result.data == {"customer": {"name": "Acme", "email": None}}
