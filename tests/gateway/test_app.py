"""The gateway's HTTP surface: /graphql over POST and GET, GraphiQL, health, request ids."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import strawberry
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from strawberry.extensions import SchemaExtension

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from gateway.app import create_app
from gateway.settings import Settings
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from schema.analysis import RowFilters, unrestricted
from schema.context import GatewayContext
from schema.principal import Principal
from tests.support.stack import GATEWAY_URL


def rows_of(filters: RowFilters) -> type[SchemaExtension]:
    """An extension that analyses every operation as "these rows, nothing else denied",
    before execution, as access control does."""

    class Rows(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            context = self.execution_context.context
            assert isinstance(context, GatewayContext)
            context.analysed(unrestricted(context.principal, row_filters=filters))
            yield

    return Rows


async def test_healthz_answers_while_the_process_is_up(
    http: httpx.AsyncClient, scm_emulator: ErpEmulator
) -> None:
    scm_emulator.controls.update({"down": True})  # liveness does not depend on backends
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_both_backends_answer(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "systems": ["crm", "scm"]}


async def test_readyz_names_the_failing_system(
    http: httpx.AsyncClient, scm_emulator: ErpEmulator
) -> None:
    scm_emulator.controls.update({"down": True})
    response = await http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["scm"]
    assert body["errors"] == {"scm": "BACKEND_UNAVAILABLE"}  # the code only: no backend paths


async def test_a_client_request_id_is_echoed_and_a_missing_one_is_made(
    http: httpx.AsyncClient,
) -> None:
    given = await http.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await http.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    hostile = await http.get("/healthz", headers={"X-Request-ID": "a b\tc<script>"})
    assert hostile.headers["x-request-id"] != "a b\tc<script>"  # not reflected verbatim
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])  # a fresh one instead
    assert made.headers["x-request-id"] != hostile.headers["x-request-id"]


async def test_queries_work_over_get(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "{ viewer { roles } }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"roles": ["admin"]}}}


async def test_browsers_get_graphiql_without_a_token(gateway_app: Starlette) -> None:
    transport = httpx.ASGITransport(app=gateway_app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as anonymous:
        page = await anonymous.get("/graphql", headers={"Accept": "text/html"})
        query = await anonymous.get(
            "/graphql", params={"query": "{ viewer { roles } }"}, headers={"Accept": "text/html"}
        )
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    assert query.status_code == 401  # an operation in the URL still needs a token


async def test_anonymous_callers_get_401_but_health_probes_answer(
    gateway_app: Starlette,
) -> None:
    transport = httpx.ASGITransport(app=gateway_app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as anonymous:
        post = await anonymous.post("/graphql", json={"query": "{ viewer { subject } }"})
        health = await anonymous.get("/healthz")
        ready = await anonymous.get("/readyz")
    assert post.status_code == 401
    assert post.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert (health.status_code, ready.status_code) == (200, 200)


@strawberry.type(description="A stand-in mutation root, to prove GET refuses mutations.")
class Mutation:
    @strawberry.mutation
    def noop(self) -> bool:
        """Does nothing."""
        return True


async def test_mutations_are_refused_over_get(
    settings: Settings, crm: ZohoCRM, scm: ERPNext
) -> None:
    app = create_app(settings, crm=crm, scm=scm, mutation=Mutation)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        refused = await http.get("/graphql", params={"query": "mutation { noop }"})
        allowed = await http.post("/graphql", json={"query": "mutation { noop }"})
    assert refused.status_code in (400, 405)
    assert allowed.json() == {"data": {"noop": True}}


async def test_the_authenticated_principal_reaches_the_viewer(
    settings: Settings, crm: ZohoCRM, scm: ERPNext
) -> None:
    async def authenticate(request: Request) -> Principal:
        if request.headers.get("authorization") != "Bearer good":
            raise HTTPException(401, "invalid token")
        return Principal(subject="ana", roles=frozenset({"sales"}), partner_id="DHL")

    app = create_app(settings, crm=crm, scm=scm, authenticate=authenticate)
    transport = httpx.ASGITransport(app=app)
    query = {"query": "{ viewer { subject roles partnerId } }"}
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        denied = await http.post("/graphql", json=query)
        viewer = await http.post("/graphql", json=query, headers={"Authorization": "Bearer good"})
    assert denied.status_code == 401
    assert viewer.json()["data"]["viewer"] == {
        "subject": "ana",
        "roles": ["sales"],
        "partnerId": "DHL",
    }


async def test_a_partner_row_rule_is_pushed_down_and_rechecked(
    settings: Settings, crm: ZohoCRM, scm: ERPNext, scm_emulator: ErpEmulator
) -> None:
    app = create_app(
        settings, crm=crm, scm=scm, extensions=[rows_of({"Shipment": {"carrier": "DPD"}})]
    )
    transport = httpx.ASGITransport(app=app)
    query = """{ shipments(first: 50) { nodes { carrier } }
                 other: shipments(first: 5, carrier: "DHL") { nodes { id } }
                 orders(first: 30) { nodes { shipments { carrier } } } }"""
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        body = (await http.post("/graphql", json={"query": query})).json()
    data = body["data"]
    assert {s["carrier"] for s in data["shipments"]["nodes"]} == {"DPD"}
    assert data["other"]["nodes"] == []  # asking for another carrier shows nothing
    seen = {s["carrier"] for o in data["orders"]["nodes"] for s in o["shipments"]}
    assert seen <= {"DPD"}


async def test_a_caller_bound_to_no_partner_sees_no_shipments_and_costs_no_call(
    settings: Settings, crm: ZohoCRM, scm: ERPNext, scm_emulator: ErpEmulator
) -> None:
    app = create_app(
        settings, crm=crm, scm=scm, extensions=[rows_of({"Shipment": {"carrier": None}})]
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        body = (
            await http.post("/graphql", json={"query": "{ shipments { nodes { id } } }"})
        ).json()
    assert body == {"data": {"shipments": {"nodes": []}}}
    assert scm_emulator.stats.total == 0


async def test_zoho_token_expiry_mid_run_is_refreshed_transparently(
    http: httpx.AsyncClient, crm_emulator: ZohoEmulator
) -> None:
    query = {"query": "{ orders(first: 2) { nodes { number customer { name } } } }"}
    first = (await http.post("/graphql", json=query)).json()
    crm_emulator.expire_tokens()
    second = (await http.post("/graphql", json=query)).json()
    assert "errors" not in second
    assert second == first
    assert crm_emulator.stats.snapshot()["routes"]["POST /oauth/v2/token"] == 2


async def test_a_query_the_schema_rejects_gets_a_validation_code(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ orders { nodes { colour } } }"})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "colour" in error["message"]


async def test_a_query_that_does_not_parse_gets_a_parse_code(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ orders { "})
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_row_filters_an_extension_analysed_before_execution_reach_the_loaders(
    settings: Settings, crm: ZohoCRM, scm: ERPNext
) -> None:
    app = create_app(
        settings, crm=crm, scm=scm, extensions=[rows_of({"Shipment": {"carrier": "UPS"}})]
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        query = "{ shipments(first: 30) { nodes { carrier } } }"
        body = (await http.post("/graphql", json={"query": query})).json()
    assert {s["carrier"] for s in body["data"]["shipments"]["nodes"]} == {"UPS"}
