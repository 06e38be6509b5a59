"""The gateway as a Federation v2 subgraph (`[graphql] federation = true`), over HTTP against
the emulations: `_entities` batched through the loaders (calls counted at the emulations),
access rules on entities as on root fields, `_service` only to the router's scope, and the
standalone graph unchanged when the setting is off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from schema.federation import FEDERATION_VERSION, KEYS
from tests.support.stack import GATEWAY_URL, GraphQLClient, gateway_settings, token_for

ENTITIES = """
query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Order { id number orderStatus: status customer { name } }
    ... on Shipment { id carrier status }
    ... on Customer { id name phone }
    ... on Product { sku name }
    ... on Warehouse { id name }
  }
}
"""

CUSTOMER_PHONE = (
    "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { name phone } } }"
)


@pytest.fixture(params=["hide"])
async def subgraph(
    request: pytest.FixtureRequest, tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> AsyncIterator[Starlette]:
    """The gateway in subgraph mode; `mode` is the policy's (parametrise to change it)."""
    settings = gateway_settings(tmp_path, policy={"mode": request.param}, federation=True)
    app = assemble(settings, crm=crm, scm=scm)
    async with app.router.lifespan_context(app):
        yield app


def client(app: Starlette, token: str) -> GraphQLClient:
    return GraphQLClient(
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=GATEWAY_URL,
            headers={"Authorization": f"Bearer {token}", "x-crossdock-csrf": "1"},
        )
    )


async def ids(gql: GraphQLClient, connection: str, field: str = "id", first: int = 40) -> list[str]:
    data = await gql.data(f"{{ {connection}(first: {first}) {{ nodes {{ {field} }} }} }}")
    return [str(node[field]) for node in data[connection]["nodes"]]


def routes(emulator: ZohoEmulator | ErpEmulator) -> dict[str, int]:
    found: dict[str, int] = emulator.stats.snapshot()["routes"]
    return found


async def entities(gql: GraphQLClient, representations: list[dict[str, Any]]) -> dict[str, Any]:
    return await gql.query(ENTITIES, representations=representations)


async def test_service_sdl_declares_every_key_at_the_chosen_version(subgraph: Starlette) -> None:
    body = await client(subgraph, token_for("router")).data("{ _service { sdl } }")
    sdl = body["_service"]["sdl"]
    assert f"https://specs.apollo.dev/federation/v{FEDERATION_VERSION}" in sdl
    for type_name, names in KEYS.items():
        declared = "".join(f' @key(fields: "{name}", resolvable: true)' for name in names)
        assert f"type {type_name}{declared} {{" in sdl


async def test_service_needs_the_router_scope(subgraph: Starlette) -> None:
    """In the default "hide" mode a caller without `federation:sdl` cannot tell `_service`
    from a field that does not exist."""
    body = await client(subgraph, token_for("sales")).query("{ _service { sdl } }")
    assert "data" not in body or body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Cannot query field '_service' on type 'Query'" in error["message"]


async def test_entities_of_one_type_cost_one_backend_call(
    subgraph: Starlette, crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    """40 orders, 30 shipments, 20 customers, 20 products and the warehouses in one
    `_entities`: one call per backend list, however many representations."""
    gql = client(subgraph, token_for("admin"))
    order_ids = await ids(gql, "orders")
    shipment_ids = await ids(gql, "shipments", first=30)
    customer_ids = await ids(gql, "customers", first=20)
    skus = await ids(gql, "products", "sku", first=20)
    warehouses = [w["id"] for w in (await gql.data("{ warehouses { id } }"))["warehouses"]]
    representations = (
        [{"__typename": "Order", "id": i} for i in order_ids]
        + [{"__typename": "Shipment", "id": i} for i in shipment_ids]
        + [{"__typename": "Customer", "id": i} for i in customer_ids]
        + [{"__typename": "Product", "sku": i} for i in skus]
        + [{"__typename": "Warehouse", "id": i} for i in warehouses]
    )
    crm_emulator.stats.reset()
    scm_emulator.stats.reset()
    body = await entities(gql, representations)
    assert "errors" not in body, body["errors"]
    found = body["data"]["_entities"]
    keys = [e.get("id", e.get("sku")) for e in found]
    assert keys == order_ids + shipment_ids + customer_ids + skus + warehouses
    assert all(e["customer"]["name"] for e in found[: len(order_ids)])
    assert routes(crm_emulator) == {
        "GET /crm/v8/Sales_Orders": 1,
        "GET /crm/v8/Accounts": 1,
        "GET /crm/v8/Products/search": 1,
    }
    assert routes(scm_emulator) == {
        "GET /api/resource/Shipment": 1,
        "GET /api/resource/Shipment Delivery Note": 1,  # which order each shipment delivers
        "GET /api/resource/Delivery Note Item": 1,
        "GET /api/resource/Warehouse": 1,
    }


async def test_orders_resolve_by_number_and_unknown_keys_are_null(subgraph: Starlette) -> None:
    gql = client(subgraph, token_for("admin"))
    number = (await ids(gql, "orders", "number", first=1))[0]
    body = await entities(
        gql, [{"__typename": "Order", "number": number}, {"__typename": "Order", "id": "no-such"}]
    )
    assert "errors" not in body, body["errors"]
    first, missing = body["data"]["_entities"]
    assert first["number"] == number
    assert missing is None


async def test_a_partner_resolving_another_carriers_shipment_gets_null(
    subgraph: Starlette, scm_emulator: ErpEmulator
) -> None:
    def first_of(carrier: str) -> str:
        rows = scm_emulator.store.query(
            "SELECT name FROM tabShipment WHERE docstatus = 1 AND carrier = ? ORDER BY name "
            "LIMIT 1",
            (carrier,),
        )
        return str(rows[0]["name"])

    dhl, ups = first_of("DHL"), first_of("UPS")
    body = await client(subgraph, token_for("partner", partner_id="DHL")).query(
        "query ($r: [_Any!]!) { _entities(representations: $r) "
        "{ __typename ... on Shipment { id carrier status } } }",
        r=[{"__typename": "Shipment", "id": dhl}, {"__typename": "Shipment", "id": ups}],
    )
    assert "errors" not in body, body["errors"]
    mine, theirs = body["data"]["_entities"]
    assert mine == {"__typename": "Shipment", "id": dhl, "carrier": "DHL", "status": mine["status"]}
    assert theirs is None


@pytest.mark.parametrize("subgraph", ["null"], indirect=True)
async def test_denied_entity_fields_are_null_and_forbidden(subgraph: Starlette) -> None:
    """In the policy's "null" mode, as on root fields: the denied field is null with
    FORBIDDEN, the rest of the entity is answered."""
    account = (await ids(client(subgraph, token_for("admin")), "customers", first=1))[0]
    body = await client(subgraph, token_for("logistics")).query(
        CUSTOMER_PHONE,
        r=[{"__typename": "Customer", "id": account}],
    )
    ((entity,),) = (body["data"]["_entities"],)
    assert entity["name"]
    assert entity["phone"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == ["_entities", 0, "phone"]


async def test_denied_entity_fields_read_as_unknown_in_hide_mode(subgraph: Starlette) -> None:
    body = await client(subgraph, token_for("logistics")).query(
        CUSTOMER_PHONE,
        r=[{"__typename": "Customer", "id": "1"}],
    )
    assert body.get("data") is None
    (error,) = body["errors"]
    assert "Cannot query field 'phone' on type 'Customer'" in error["message"]


async def test_bad_representations_are_client_errors_not_500(subgraph: Starlette) -> None:
    gql = client(subgraph, token_for("admin"))
    body = await entities(
        gql,
        [
            {"__typename": "Nope", "id": "1"},
            {"__typename": "Order"},
            {"__typename": "Shipment", "id": {"nested": True}},
        ],
    )
    assert body["data"]["_entities"] == [None, None, None]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
    assert "not an entity of this subgraph" in body["errors"][0]["message"]


async def test_the_standalone_graph_has_no_federation_fields(client_for: Any) -> None:
    gql = client_for("admin")
    names = await gql.data('{ __type(name: "Query") { fields { name } } }')
    assert not {f["name"] for f in names["__type"]["fields"]} & {"_entities", "_service"}
    directives = await gql.data("{ __schema { directives { name } } }")
    assert "key" not in {d["name"] for d in directives["__schema"]["directives"]}
