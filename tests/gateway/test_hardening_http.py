"""Hostile requests against the assembled gateway: each gets its status and code, then the
server still answers normally. Plus the GraphQL-over-HTTP media type negotiation.

The client is the production app (tests/conftest.py) over httpx.ASGITransport, with an admin
token, the `x-crossdock-csrf` header real clients send, and `Accept:
application/graphql-response+json` unless a row says otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

GRAPHQL_RESPONSE = "application/graphql-response+json"
ACCEPT = {"accept": GRAPHQL_RESPONSE}
SMALL = "{ viewer { roles } }"
MUTATION = 'mutation { cancelOrder(id: "SO-1") { __typename } }'


def aliases(n: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }"


@dataclass(frozen=True)
class Hostile:
    """One hostile request and the answer it must get."""

    name: str
    status: int
    code: str
    method: str = "POST"
    json_body: Any = None
    content: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


TABLE = [
    Hostile("nesting depth 10,000", 400, "QUERY_TOO_DEEP",
            json_body={"query": "{" * 10_000 + "}" * 10_000}),
    Hostile("10,000 aliases (the token limit stops the parser first)", 400, "QUERY_TOO_LARGE",
            json_body={"query": aliases(10_000)}),
    Hostile("31 aliases", 400, "TOO_MANY_ALIASES", json_body={"query": aliases(31)}),
    Hostile("a fragment cycle", 400, "GRAPHQL_VALIDATION_FAILED",
            json_body={"query": "{ ...A } fragment A on Query { ...B } "
                                "fragment B on Query { ...A }"}),
    Hostile("a cost far over the limit", 400, "QUERY_TOO_COMPLEX",
            json_body={"query": "{ orders(first: 200) { nodes { customer { orders(first: 200) "
                                "{ nodes { lines { sku } } } } } } }"}),
    Hostile("a first over graphql.max_first, refused before the cost is estimated", 400,
            "BAD_USER_INPUT",
            json_body={"query": "{ orders(first: 100000) { nodes { lines { sku } } } }"}),
    Hostile("a first over 64 bits (its cost estimate overflowed orjson: plain-text 500)", 400,
            "GRAPHQL_VALIDATION_FAILED",
            json_body={"query": "{ shipments(first: 18446744073709551616) { nodes { id } } }"}),
    Hostile("a 10 MB string", 413, "REQUEST_TOO_LARGE",
            json_body={"query": '{ order(number: "' + "a" * 10_000_000 + '") { number } }'}),
    Hostile("invalid JSON", 400, "INVALID_JSON", content=b'{"query": "{ viewer'),
    Hostile("a JSON array of 1,000 operations", 400, "BATCH_TOO_LARGE",
            json_body=[{"query": SMALL}] * 1000),
    Hostile("text/plain without a preflight header", 400, "CSRF_REJECTED", content=b"{}",
            headers={"content-type": "text/plain", "x-crossdock-csrf": ""}),
    Hostile("application/xml", 415, "UNSUPPORTED_MEDIA_TYPE", content=b"<query/>",
            headers={"content-type": "application/xml"}),
    Hostile("a GET mutation", 405, "METHOD_NOT_ALLOWED", method="GET",
            params={"query": MUTATION}),
    Hostile("the query in both the body and the URL", 400, "BAD_REQUEST",
            json_body={"query": SMALL}, params={"query": SMALL}),
    Hostile("an unknown operation name", 400, "OPERATION_NOT_FOUND",
            json_body={"query": "query A { viewer { roles } }", "operationName": "B"}),
    Hostile("variables of the wrong type", 400, "GRAPHQL_VALIDATION_FAILED",
            json_body={"query": "query($n: Int) { orders(first: $n) { nodes { number } } }",
                       "variables": {"n": "many"}}),
    Hostile("a body larger than the limit", 413, "REQUEST_TOO_LARGE",
            content=b" " * 1_000_001, headers={"content-type": "application/json"}),
]  # fmt: skip


async def send(http: httpx.AsyncClient, row: Hostile) -> httpx.Response:
    headers = {**ACCEPT, **row.headers}
    if row.method == "GET":
        return await http.get("/graphql", params=row.params, headers=headers)
    content = row.content if row.json_body is None else json.dumps(row.json_body).encode()
    headers.setdefault("content-type", "application/json")
    return await http.post("/graphql", content=content, params=row.params, headers=headers)


@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
async def test_a_hostile_request_gets_its_status_and_code_and_the_server_still_answers(
    http: httpx.AsyncClient, row: Hostile
) -> None:
    response = await send(http, row)

    assert response.status_code == row.status, response.text[:300]
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == row.code, body
    after = await http.post("/graphql", json={"query": SMALL}, headers=ACCEPT)
    assert after.status_code == 200
    assert after.json() == {"data": {"viewer": {"roles": ["admin"]}}}


async def test_a_limit_refusal_states_the_limit_and_the_measured_value(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post("/graphql", json={"query": aliases(31)}, headers=ACCEPT)

    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "TOO_MANY_ALIASES", "limit": 30, "measured": 31}
    assert "31" in error["message"]
    assert "30" in error["message"]


async def test_a_get_mutation_is_told_to_use_post(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": MUTATION}, headers=ACCEPT)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_a_client_accepting_only_json_gets_200_and_null_data_for_a_parse_error(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/graphql", json={"query": "{ viewer"}, headers={"accept": "application/json"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_invalid_json_is_400_for_a_client_accepting_only_json(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/graphql",
        content=b"{ nope",
        headers={"accept": "application/json", "content-type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_JSON"


async def test_a_field_error_keeps_status_200_with_graphql_response_json(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/graphql", json={"query": '{ order(number: "nope") { number } }'}, headers=ACCEPT
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" in response.json()


async def test_an_anonymous_get_operation_is_refused_by_authentication_not_csrf(
    http: httpx.AsyncClient,
) -> None:
    anonymous = httpx.AsyncClient(transport=http._transport, base_url=str(http.base_url))
    async with anonymous:
        response = await anonymous.get("/graphql", params={"query": SMALL})

    assert response.status_code == 401
