"""The access pieces wired the way the app wires them: 401 before GraphQL, 403 on reject."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL

from gateway.access.extension import access_extension
from gateway.access.policy import Policy
from gateway.auth import Authenticator, AuthError, AuthSettings, auth_exception_handler
from gateway.auth.tokens import mint
from tests.gateway.contract_fields import contract_context
from tests.gateway.contract_schema import ContractContext, contract_schema

SECRET = "http-test-secret-0123456789-0123456789-0123456789"


class ContractGraphQL(GraphQL[ContractContext, None]):
    authenticate: Callable[..., Any]
    policy: Policy

    async def get_context(self, request: Any, response: Any) -> ContractContext:
        """As the gateway builds it: the caller (the access extension analyses)."""
        context = contract_context(await self.authenticate(request))
        context.response = response
        return context


def _app(mode: Literal["null", "reject"]) -> Starlette:
    policy = Policy.load(None)
    graphql = ContractGraphQL(contract_schema([access_extension(policy, mode=mode)]))
    graphql.authenticate = Authenticator(AuthSettings(hs256_secret=SECRET), policy)
    graphql.policy = policy
    return Starlette(
        routes=[Route("/graphql", graphql, methods=["POST"])],
        exception_handlers={AuthError: auth_exception_handler},
    )


@pytest.fixture(params=["null", "reject"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(request.param))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
        c.headers["x-mode"] = request.param
        yield c


def _bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(SECRET, subject='u', roles=[role], partner_id='DHL')}"}


QUERY = {"query": "{ shipments { nodes { id value { amount } } } }"}


async def test_a_bad_token_gets_401_with_the_challenge_and_the_server_keeps_serving(
    client: httpx.AsyncClient,
) -> None:
    bad = await client.post("/graphql", json=QUERY, headers={"Authorization": "Bearer e30.e30.sig"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert bad.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    missing = await client.post("/graphql", json=QUERY)
    assert missing.status_code == 401
    good = await client.post(
        "/graphql", json={"query": "{ viewer { subject } }"}, headers=_bearer("sales")
    )
    assert good.status_code == 200


async def test_denied_fields_are_null_with_200_or_the_operation_is_refused_with_403(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json=QUERY, headers=_bearer("partner"))
    body = response.json()
    if client.headers["x-mode"] == "null":
        assert response.status_code == 200
        assert body["data"] == {"shipments": {"nodes": [{"id": "SHIP-1", "value": None}]}}
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    else:
        assert response.status_code == 403
        assert body["data"] is None
        assert [e["path"] for e in body["errors"]] == [["shipments", "nodes", "value"]]
        assert body["errors"][0]["extensions"]["code"] == "OPERATION_FORBIDDEN"
