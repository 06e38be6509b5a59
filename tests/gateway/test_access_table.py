"""Every (role × field) of the default policy, through the contract schema.

Expectations are written from the issue's policy text, not derived from the policy file, so
a wrong rule in `policy_default.toml` fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

from gateway.access.extension import access_extension
from gateway.access.policy import Policy
from tests.gateway.contract_schema import contract_schema, principal_for, run

ROLES = ("admin", "sales", "logistics", "analyst", "partner")
CRM_ROLES = {"admin", "sales", "logistics", "analyst"}
EVERYONE = set(ROLES)

# (operation, path of the leaf in the response, roles allowed, roles that get a mask)
TABLE: list[tuple[str, tuple[str, ...], set[str], set[str]]] = [
    ("{ customers { nodes { name } } }", ("customers",), CRM_ROLES, set()),
    ('{ customer(id: "C1") { name } }', ("customer", "name"), CRM_ROLES, set()),
    # contact PII: sales and admin only; the analyst sees a masked email, nobody else anything
    ('{ customer(id: "C1") { email } }', ("customer", "email"), {"admin", "sales"}, {"analyst"}),
    ('{ customer(id: "C1") { phone } }', ("customer", "phone"), {"admin", "sales"}, set()),
    (
        '{ customer(id: "C1") { billingAddress { city } } }',
        ("customer", "billingAddress"),
        {"admin", "sales"},
        set(),
    ),
    # shipping address: pii:read OR address:read (logistics holds address:read)
    (
        '{ customer(id: "C1") { shippingAddress { city } } }',
        ("customer", "shippingAddress"),
        {"admin", "sales", "logistics"},
        set(),
    ),
    (
        '{ customer(id: "C1") { creditLimit { amount } } }',
        ("customer", "creditLimit"),
        {"admin", "analyst"},
        set(),
    ),
    (
        '{ customer(id: "C1") { orders { nodes { number } } } }',
        ("customer", "orders"),
        CRM_ROLES,
        set(),
    ),
    ("{ orders { nodes { number } } }", ("orders",), CRM_ROLES, set()),
    ('{ order(id: "O1") { number } }', ("order", "number"), CRM_ROLES, set()),
    ('{ order(id: "O1") { total { amount } } }', ("order", "total"), CRM_ROLES, set()),
    ('{ order(id: "O1") { customer { name } } }', ("order", "customer"), CRM_ROLES, set()),
    ('{ order(id: "O1") { shipments { id } } }', ("order", "shipments"), CRM_ROLES, set()),
    ('{ order(id: "O1") { lines { sku } } }', ("order", "lines"), CRM_ROLES, set()),
    # catalog: every default role holds catalog:read
    ('{ product(sku: "SKU-1") { name } }', ("product", "name"), EVERYONE, set()),
    ("{ products { nodes { sku } } }", ("products",), EVERYONE, set()),
    (
        '{ product(sku: "SKU-1") { listPrice { amount } } }',
        ("product", "listPrice"),
        EVERYONE,
        set(),
    ),
    (
        '{ product(sku: "SKU-1") { unitCost { amount } } }',
        ("product", "unitCost"),
        {"admin", "analyst"},
        set(),
    ),
    ('{ product(sku: "SKU-1") { available } }', ("product", "available"), CRM_ROLES, set()),
    ('{ product(sku: "SKU-1") { stock { onHand } } }', ("product", "stock"), CRM_ROLES, set()),
    ("{ warehouses { name } }", ("warehouses",), EVERYONE, set()),
    # shipments: everyone holds shipments:read; the partner sees its own carrier's (SHIP-1 is DHL)
    ('{ shipment(id: "SHIP-1") { carrier } }', ("shipment", "carrier"), EVERYONE, set()),
    ("{ shipments { nodes { id } } }", ("shipments",), EVERYONE, set()),
    ('{ shipment(id: "SHIP-1") { lines { sku } } }', ("shipment", "lines"), EVERYONE, set()),
    (
        '{ shipment(id: "SHIP-1") { destination { city } } }',
        ("shipment", "destination"),
        {"admin", "sales", "logistics", "partner"},
        set(),
    ),
    ('{ shipment(id: "SHIP-1") { order { number } } }', ("shipment", "order"), CRM_ROLES, set()),
    # value: crm:read OR finance:read
    ('{ shipment(id: "SHIP-1") { value { amount } } }', ("shipment", "value"), CRM_ROLES, set()),
    ("{ viewer { subject } }", ("viewer", "subject"), EVERYONE, set()),
    ('{ orderProcess(id: "P1") { status } }', ("orderProcess",), {"admin", "sales"}, set()),
    (
        'mutation { placeOrder(sku: "SKU-1", quantity: 1) { status } }',
        ("placeOrder",),
        {"admin", "sales"},
        set(),
    ),
    ('mutation { approveOrder(id: "O1") { status } }', ("approveOrder",), {"admin"}, set()),
    ('mutation { cancelOrder(id: "O1") { status } }', ("cancelOrder",), {"admin"}, set()),
]

CASES = [
    pytest.param(query, path, role, allowed, masked, id=f"{role}:{'.'.join(path)}")
    for query, path, allowed, masked in TABLE
    for role in ROLES
]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.load(None)


@pytest.fixture(scope="module")
def schema(policy: Policy) -> strawberry.Schema:
    return contract_schema([access_extension(policy, mode="null")])


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if data is None:
            return None
        data = data[key]
    return data


@pytest.mark.parametrize(("query", "path", "role", "allowed", "masked"), CASES)
async def test_each_role_sees_exactly_the_fields_the_policy_grants(
    schema: strawberry.Schema,
    policy: Policy,
    query: str,
    path: tuple[str, ...],
    role: str,
    allowed: set[str],
    masked: set[str],
) -> None:
    result, _ = await run(schema, query, principal_for(role, policy))
    value = _dig(result.data, path)
    forbidden = [e for e in result.errors or [] if (e.extensions or {}).get("code") == "FORBIDDEN"]
    if role in allowed:
        assert value is not None
        assert not forbidden, forbidden
    elif role in masked:
        assert value == "j***@example.com"
        assert not forbidden
    else:
        assert value is None
        assert any(tuple(e.path or ())[: len(path)] == path[: len(e.path or ())] for e in forbidden)
