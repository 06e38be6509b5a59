"""Every (role × field) of the default policy through HTTP: the real gateway over both emulations.

The expectations are the issue's policy text, shared with the contract-schema table in
`test_access_table.py` (`TABLE`); here the ids are real seeded records, chosen so that every
field has a value for the admin. Allowed roles get exactly the admin's value, masked roles a
masked email, denied roles null with FORBIDDEN at the path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from gateway.settings import Settings
from tests.gateway.test_access_table import ROLES, TABLE
from tests.support.stack import ClientFor, gateway_settings

# The order process rows run real writes: they are covered in test_wiring_orders.py.
READS = [row for row in TABLE if not row[0].startswith("mutation") and "orderProcess" not in row[0]]
_PICKS: dict[str, str] = {}
LOOKUP = """{
  customers(first: 50) { nodes { id email phone billingAddress { city }
                                 shippingAddress { city } creditLimit { amount } } }
  shipments(first: 100, carrier: "DHL") { nodes { id destination { city } value { amount }
                                                  lines { sku } order { id } } }
  products(first: 50) { nodes { sku unitCost { amount } stock { onHand } } }
}"""


def _complete(node: dict[str, Any]) -> bool:
    return all(value not in (None, []) for value in node.values())


@pytest.fixture(autouse=True)
def _picks_of_this_crm(crm_kind: str) -> None:
    """The picked ids are seeded records of one CRM: picked again when the CRM changes."""
    if _PICKS.get("crm") != crm_kind:
        _PICKS.clear()
        _PICKS["crm"] = crm_kind


async def picks(client_for: ClientFor) -> dict[str, str]:
    """Seeded ids where every field of the table has a value (looked up once as admin)."""
    if "C1" not in _PICKS:
        data = await client_for("admin").data(LOOKUP)
        customer = next(n for n in data["customers"]["nodes"] if _complete(n))
        shipment = next(n for n in data["shipments"]["nodes"] if _complete(n))
        product = next(n for n in data["products"]["nodes"] if _complete(n))
        _PICKS.update(
            C1=customer["id"],
            O1=shipment["order"]["id"],
            SKU_1=product["sku"],
            SHIP_1=shipment["id"],
        )
    return _PICKS


def real(query: str, ids: dict[str, str]) -> str:
    """The contract query with its placeholder ids replaced by seeded ones."""
    return (
        query.replace('"C1"', f'"{ids["C1"]}"')
        .replace('"O1"', f'"{ids["O1"]}"')
        .replace('"SKU-1"', f'"{ids["SKU_1"]}"')
        .replace('"SHIP-1"', f'"{ids["SHIP_1"]}"')
    )


def dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if data is None:
            return None
        data = data[key]
    return data


def forbidden_at(body: dict[str, Any], path: tuple[str, ...]) -> bool:
    for error in body.get("errors", []):
        where = tuple(p for p in error.get("path") or () if isinstance(p, str))
        if error["extensions"]["code"] == "FORBIDDEN" and where[: len(path)] == path[: len(where)]:
            return True
    return False


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The policy's "null" mode: denied fields run as null with FORBIDDEN (the default,
    "hide", refuses them at validation: tests/gateway/test_access_hidden.py)."""
    return gateway_settings(tmp_path, policy={"mode": "null"})


@pytest.mark.parametrize(
    ("query", "path", "allowed", "masked"),
    [pytest.param(*row, id=".".join(row[1])) for row in READS],
)
async def test_each_role_reads_exactly_what_the_default_policy_grants_over_http(
    client_for: ClientFor,
    query: str,
    path: tuple[str, ...],
    allowed: set[str],
    masked: set[str],
) -> None:
    ids = await picks(client_for)
    operation = real(query, ids)
    expected = dig(await client_for("admin").data(operation), path)
    assert expected not in (None, []), f"pick a record where {path} has a value"
    for role in ROLES:
        partner = "DHL" if role == "partner" else None
        body = await client_for(role, partner_id=partner).query(operation)
        value = dig(body.get("data"), path)
        if role in allowed and role == "partner" and path == ("shipments",):
            assert value["nodes"], "the partner's row rule leaves its own carrier's shipments"
        elif role in allowed and path == ("viewer", "subject"):
            assert value == f"test-{role}"
        elif role in allowed:
            assert value == expected, role
            assert not forbidden_at(body, path), (role, body.get("errors"))
        elif role in masked:
            local, _, domain = str(expected).partition("@")
            assert value == f"{local[0]}***@{domain}", role
            assert not forbidden_at(body, path), role
        else:
            assert value is None, (role, value)
            assert forbidden_at(body, path), (role, body)


async def test_a_denied_root_field_costs_no_backend_call(
    client_for: ClientFor, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    partner = client_for("partner", partner_id="DHL")
    crm_emulator.stats.reset()
    scm_emulator.stats.reset()
    body = await partner.query(
        '{ customers { nodes { name } } orders { nodes { number } } customer(id: "1") { id } }'
    )
    assert body["data"] == {"customers": None, "orders": None, "customer": None}
    assert (crm_emulator.stats.total, scm_emulator.stats.total) == (0, 0)


async def test_denied_nested_fields_cost_no_backend_call_while_allowed_ones_are_fetched(
    client_for: ClientFor, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    ids = await picks(client_for)
    query = f'{{ shipment(id: "{ids["SHIP_1"]}") {{ id order {{ number }} value {{ amount }} }} }}'
    partner = client_for("partner", partner_id="DHL")
    crm_emulator.stats.reset()
    scm_emulator.stats.reset()
    body = await partner.query(query)
    assert body["data"]["shipment"] == {"id": ids["SHIP_1"], "order": None, "value": None}
    assert crm_emulator.stats.total == 0  # Shipment.order (crm:read) never asked the CRM
    assert scm_emulator.stats.total > 0
    sales = client_for("sales")
    crm_emulator.stats.reset()
    await sales.data(query)
    assert crm_emulator.stats.total > 0  # the same field, allowed, does reach the CRM


async def test_a_partner_stock_request_never_reaches_the_erp_bins(
    client_for: ClientFor, scm_emulator: ErpEmulator
) -> None:
    ids = await picks(client_for)
    partner = client_for("partner", partner_id="DHL")
    scm_emulator.stats.reset()
    query = f'{{ product(sku: "{ids["SKU_1"]}") {{ name stock {{ onHand }} available }} }}'
    body = await partner.query(query)
    assert body["data"]["product"]["stock"] is None
    assert body["data"]["product"]["available"] is None
    routes = scm_emulator.stats.snapshot()["routes"]
    assert not [route for route in routes if "Bin" in route], routes


async def test_a_denied_shipment_destination_never_reaches_the_erp_addresses(
    client_for: ClientFor, scm_emulator: ErpEmulator
) -> None:
    ids = await picks(client_for)
    query = f"""{{ order(id: "{ids["O1"]}") {{ shipments {{ id destination {{ city }} }} }}
                  shipment(id: "{ids["SHIP_1"]}") {{ id destination {{ city }} }}
                  shipments(first: 3) {{ nodes {{ id destination {{ city }} }} }} }}"""

    async def address_calls(role: str) -> tuple[list[str], dict[str, Any]]:
        scm_emulator.stats.reset()
        body = await client_for(role).query(query)
        routes = scm_emulator.stats.snapshot()["routes"]
        return [route for route in routes if "Address" in route], body

    denied, body = await address_calls("analyst")  # crm:read, shipments:read; no address scope
    data = body["data"]
    shipments = [*data["order"]["shipments"], data["shipment"], *data["shipments"]["nodes"]]
    assert len(shipments) > 1, body
    assert all(s["destination"] is None for s in shipments), body
    assert forbidden_at(body, ("order", "shipments", "destination")), body
    assert forbidden_at(body, ("shipment", "destination")), body
    assert forbidden_at(body, ("shipments", "nodes", "destination")), body
    assert denied == []
    allowed, body = await address_calls("logistics")  # address:read: the same query reads them
    assert allowed, body
    assert any(s["destination"] for s in body["data"]["order"]["shipments"]), body
    assert body["data"]["shipment"]["destination"] is not None, body
    assert any(s["destination"] for s in body["data"]["shipments"]["nodes"]), body
