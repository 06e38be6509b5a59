"""The policy's "hide" mode (the default), over HTTP: what a caller may not read does not exist.

Issue 12: validation ran against the whole schema, so a partner's typo under a field it may
not read said "Cannot query field 'numbr' on type 'Order'" (naming a type it may not see), and
a hidden field (null + FORBIDDEN with its scopes) read differently from a missing one. Now an
authenticated caller's document is validated against its visible schema: a hidden field or
type gets the message a missing one gets, suggestions name only what it may see, and no
error names a hidden type. Every (role × field) of the default policy is checked.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.applications import Starlette

import gateway.access.visibility
from gateway.access.policy import Policy
from gateway.access.visibility import visible_schema
from tests.gateway.test_access_table import ROLES, TABLE
from tests.support.stack import ClientFor, GraphQLClient

CANNOT = re.compile(r"Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'\.")
SUGGESTED = re.compile(r" Did you mean (.*)\?$")
NO_MUTATION = "The mutation operation is not supported by the schema."
MISSING = "zzNoSuchName"
CONTRACT_ONLY = re.compile(r"^mutation|orderProcess")


def client(client_for: ClientFor, role: str) -> GraphQLClient:
    return client_for(role, partner_id="DHL" if role == "partner" else None)


def hidden_types(app: Starlette, role: str) -> set[str]:
    """Named types of the whole schema that `role` may not see (built-ins excluded)."""
    full = app.state.schema._schema
    policy = Policy.load(None)
    visible = visible_schema(full, policy, policy.roles[role], roles=[role])
    return {name for name in full.type_map if not name.startswith("__")} - set(visible.type_map)


def messages(body: dict[str, Any]) -> list[str]:
    return [error["message"] for error in body.get("errors", [])]


def shape(body: dict[str, Any], name: str) -> list[tuple[str, Any, Any]]:
    """Each error as (message without its suggestion, name replaced; code; line), plus all
    the extensions: what must not tell a hidden name from a missing one."""
    found = []
    for error in body["errors"]:
        message = SUGGESTED.sub("", error["message"]).replace(f"'{name}'", "'<name>'")
        lines = [location["line"] for location in error.get("locations", [])]
        found.append((message, error["extensions"], lines))
    return found


def assert_names_only_visible(body: dict[str, Any], hidden: set[str], query: str) -> None:
    """No error names a hidden type, unless it quotes the caller's own word for it."""
    written = set(re.findall(r"\w+", query))
    for message in messages(body):
        named = set(re.findall(r"'(\w+)'", message)) - written
        assert not named & hidden, (message, named & hidden)


@pytest.mark.parametrize("role", ROLES)
async def test_what_a_role_may_not_read_reads_exactly_like_what_does_not_exist(
    client_for: ClientFor, gateway_app: Starlette, role: str
) -> None:
    caller, hidden = client(client_for, role), hidden_types(gateway_app, role)
    checked = 0
    for query, path, allowed, masked in TABLE:
        body = await caller.query(query)
        assert_names_only_visible(body, hidden, query)
        codes = {e["extensions"]["code"] for e in body.get("errors", [])}
        if role in allowed | masked and CONTRACT_ONLY.search(query):
            continue  # the contract schema's mutation signatures: run in test_wiring_orders
        if role in allowed | masked:
            assert "GRAPHQL_VALIDATION_FAILED" not in codes, (role, query, body)
            continue
        assert body.get("data") is None, (role, query, body)
        assert codes == {"GRAPHQL_VALIDATION_FAILED"}, (role, query, body)
        if messages(body) == [NO_MUTATION]:  # no mutation at all for this role
            continue
        [hit] = [m for m in map(CANNOT.match, messages(body)) if m]
        name = hit["field"]
        assert name in path, (name, path)
        missing = await caller.query(re.sub(rf"\b{name}\b", MISSING, query, count=1))
        assert shape(body, name) == shape(missing, MISSING), (role, query)
        checked += 1
    assert checked or role == "admin"


async def test_a_partners_typo_under_a_hidden_field_names_no_hidden_type(
    client_for: ClientFor, gateway_app: Starlette
) -> None:
    partner = client(client_for, "partner")
    hidden = hidden_types(gateway_app, "partner")
    assert {"Order", "Customer", "OrderStatus", "PlaceOrderInput"} <= hidden
    body = await partner.query("{ shipments { nodes { order { numbr } } } }")
    assert messages(body) == ["Cannot query field 'order' on type 'Shipment'."]
    missing = await partner.query("{ shipments { nodes { ordr { numbr } } } }")
    assert messages(missing) == ["Cannot query field 'ordr' on type 'Shipment'."]
    for probe in (
        "query($s: OrderStatus) { shipments { nodes { id } } }",
        'mutation($i: PlaceOrderInput!) { placeOrder(input: $i, idempotencyKey: "k") { status } }',
        '{ __type(name: "Order") { name } product(sku: "x") { nme } }',
        "{ shipments { nodes { id ... on Order { number } } } }",
        "fragment f on Customer { name } { shipments { nodes { id } } }",
    ):
        answer = await partner.query(probe)
        assert answer.get("errors"), probe
        assert_names_only_visible(answer, hidden, probe)


async def test_a_hidden_type_reads_like_a_missing_type(client_for: ClientFor) -> None:
    partner = client(client_for, "partner")
    query = "query($s: %s) { shipments { nodes { id } } }"
    hidden = await partner.query(query % "OrderStatus")
    missing = await partner.query(query % "OrderStatusX")
    assert shape(hidden, "OrderStatus") == shape(missing, "OrderStatusX")


async def test_the_visible_schema_keeps_the_real_scalars(client_for: ClientFor) -> None:
    """A bad DateTime literal fails validation for a partner exactly as for an admin."""
    query = '{ shipments(updatedSince: "garbage") { nodes { id } } }'
    partner = await client(client_for, "partner").query(query)
    admin = await client(client_for, "admin").query(query)
    assert partner == admin
    assert messages(partner) == [
        "'garbage' is not an RFC 3339 date-time (e.g. 2026-03-01T10:00:00Z)"
    ]


async def test_suggestions_name_only_what_the_caller_may_see(client_for: ClientFor) -> None:
    partner, sales = client(client_for, "partner"), client(client_for, "sales")
    assert messages(await partner.query("{ shipments { nodes { valu } } }")) == [
        "Cannot query field 'valu' on type 'Shipment'."
    ]
    assert (
        "Did you mean 'value'?"
        in messages(await sales.query("{ shipments { nodes { valu } } }"))[0]
    )
    assert (
        "Did you mean 'shipments' or 'shipment'?"
        in messages(await partner.query("{ shipmnts { nodes { id } } }"))[0]
    )


async def test_a_valid_document_still_runs_and_the_visible_schema_is_built_once_per_profile(
    client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[frozenset[str]] = []
    build = gateway.access.visibility._build

    def counting(*args: Any) -> Any:  # a spy: the real build runs
        built.append(args[2])
        return build(*args)

    monkeypatch.setattr(gateway.access.visibility, "_build", counting)
    partner, logistics = client(client_for, "partner"), client(client_for, "logistics")
    for _ in range(5):
        data = await partner.data("{ shipments(first: 2) { nodes { id carrier } } }")
        assert {n["carrier"] for n in data["shipments"]["nodes"]} == {"DHL"}
        await logistics.data("{ shipments(first: 1) { nodes { id } } }")
    assert len(built) == 2  # one per visibility profile, not per request
