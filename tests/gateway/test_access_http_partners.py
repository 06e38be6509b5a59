"""Partner isolation through HTTP: a partner reaches only its own carrier's shipments.

Lists, single fetches, nested paths, aliases and fragments all go through the real gateway
over both emulations, with a token for `partner` bound to DHL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.settings import Settings
from tests.support.stack import ClientFor, GraphQLClient, gateway_settings

MINE = "DHL"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The policy's "null" mode: denied fields run as null with FORBIDDEN (the default,
    "hide", refuses them at validation: tests/gateway/test_access_hidden.py)."""
    return gateway_settings(tmp_path, policy={"mode": "null"})


@pytest.fixture
async def foreign(client_for: ClientFor) -> dict[str, str]:
    """One shipment of ours and one of another carrier, looked up as admin."""
    data = await client_for("admin").data("{ shipments(first: 200) { nodes { id carrier } } }")
    nodes = data["shipments"]["nodes"]
    return {
        "mine": next(n["id"] for n in nodes if n["carrier"] == MINE),
        "theirs": next(n["id"] for n in nodes if n["carrier"] not in (MINE, None)),
        "other_carrier": next(n["carrier"] for n in nodes if n["carrier"] not in (MINE, None)),
    }


@pytest.fixture
def partner(client_for: ClientFor) -> GraphQLClient:
    return client_for("partner", partner_id=MINE)


def codes(body: dict[str, Any]) -> set[str]:
    return {e["extensions"]["code"] for e in body.get("errors", [])}


async def test_a_partner_lists_only_its_own_carriers_shipments(
    partner: GraphQLClient, foreign: dict[str, str]
) -> None:
    data = await partner.data(
        "query($c: String) { all: shipments(first: 200) { nodes { carrier } }"
        " theirs: shipments(first: 50, carrier: $c) { nodes { id } } }",
        c=foreign["other_carrier"],
    )
    assert {n["carrier"] for n in data["all"]["nodes"]} == {MINE}
    assert data["theirs"]["nodes"] == []


async def test_another_carriers_shipment_by_id_looks_exactly_like_a_missing_one(
    partner: GraphQLClient, foreign: dict[str, str]
) -> None:
    query = "query($id: ID!) { shipment(id: $id) { id carrier lines { sku } } }"
    theirs = await partner.query(query, id=foreign["theirs"])
    missing = await partner.query(query, id="SHIPMENT-DOES-NOT-EXIST")
    assert theirs == missing == {"data": {"shipment": None}}
    mine = await partner.data(query, id=foreign["mine"])
    assert mine["shipment"]["carrier"] == MINE


async def test_nested_paths_from_a_shipment_to_its_order_stay_closed(
    partner: GraphQLClient, foreign: dict[str, str]
) -> None:
    query = "query($id: ID!) { shipment(id: $id) { id order { number customer { email } } } }"
    mine = await partner.query(query, id=foreign["mine"])
    assert mine["data"]["shipment"] == {"id": foreign["mine"], "order": None}
    assert codes(mine) == {"FORBIDDEN"}
    theirs = await partner.query(query, id=foreign["theirs"])
    assert theirs["data"] == {"shipment": None}


async def test_aliases_cannot_reach_another_carrier_or_a_denied_root(
    partner: GraphQLClient, foreign: dict[str, str]
) -> None:
    body = await partner.query(
        "query($a: ID!, $b: ID!) { a: shipment(id: $a) { carrier }"
        " b: shipment(id: $b) { carrier } c: customers { nodes { name } }"
        " d: orders { nodes { number } } }",
        a=foreign["mine"],
        b=foreign["theirs"],
    )
    assert body["data"] == {"a": {"carrier": MINE}, "b": None, "c": None, "d": None}
    denied = sorted(tuple(e["path"]) for e in body["errors"])
    assert denied == [("c",), ("d",)]


async def test_fragments_and_inline_fragments_get_the_same_verdicts(
    partner: GraphQLClient,
) -> None:
    body = await partner.query(
        """
        fragment Parcel on Shipment { carrier destination { country } order { number } }
        { shipments(first: 20) { nodes { ...Parcel ... on Shipment { value { amount } } } } }
        """
    )
    nodes = body["data"]["shipments"]["nodes"]
    assert nodes
    assert {n["carrier"] for n in nodes} == {MINE}
    assert all(n["order"] is None and n["value"] is None for n in nodes)
    assert any(n["destination"] is not None for n in nodes)  # address:read is granted
    assert codes(body) == {"FORBIDDEN"}
    paths = {tuple(p for p in e["path"] if isinstance(p, str)) for e in body["errors"]}
    assert paths == {("shipments", "nodes", "order"), ("shipments", "nodes", "value")}


async def test_a_partner_token_without_a_partner_id_sees_no_shipments(
    client_for: ClientFor,
) -> None:
    unbound = client_for("partner")
    data = await unbound.data("{ shipments(first: 50) { nodes { id } } }")
    assert data["shipments"]["nodes"] == []
