"""Client input at the edges of what the gateway accepts: each is the client's error (4xx,
GraphQL-shaped, with a request id), never a 5xx; an unexpected fault is a JSON 500.

Through the production app (tests/conftest.py) over httpx.ASGITransport, with an admin token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from graphql import parse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.extensions import SchemaExtension

from gateway.app import create_app
from gateway.protection.cost import COST_CEILING, measure_document
from gateway.settings import Settings
from resolvers.canonical import format_naive_datetime, format_offset_datetime
from resolvers.erpnext import ERPNext
from resolvers.errors import InvalidInput
from resolvers.zoho import ZohoCRM
from schema.build import build_schema
from tests.support.stack import GATEWAY_URL

GRAPHQL_RESPONSE = "application/graphql-response+json"
ACCEPT = {"accept": GRAPHQL_RESPONSE}
SMALL = "{ viewer { roles } }"


async def post_raw(http: httpx.AsyncClient, body: bytes, **headers: str) -> httpx.Response:
    sent = {**ACCEPT, "content-type": "application/json", **headers}
    return await http.post("/graphql", content=body, headers=sent)


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["x-request-id"]
    error: dict[str, Any] = response.json()["errors"][0]
    return error


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"42", "JSON number"),  # each of these made strawberry raise AttributeError: 500
        (b'"x"', "JSON string"),
        (b"true", "JSON boolean"),
        (b"null", "JSON null"),
        (b'{"query": 5}', "`query` must be a string"),
        (b'{"query": "{ viewer { roles } }", "variables": []}', "`variables` must be an object"),
        (b'{"query": "{ viewer { roles } }", "operationName": 5}', "`operationName` must be"),
        (b'{"query": "{ viewer { roles } }", "extensions": "x"}', "`extensions` must be"),
        (b'{"documentId": ["a"]}', "`documentId` must be a string"),
    ],
)
async def test_a_body_that_is_not_a_graphql_request_object_is_a_400(
    http: httpx.AsyncClient, body: bytes, fragment: str
) -> None:
    response = await post_raw(http, body)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    error = error_of(response)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert fragment in error["message"]


async def test_a_legacy_json_client_gets_a_400_for_a_non_object_body(
    http: httpx.AsyncClient,
) -> None:
    response = await post_raw(http, b"42", accept="application/json")

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert error_of(response)["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        # a 64-bit first: its cost estimate overflowed orjson (plain-text 500, no request id)
        ("{ shipments(first: 18446744073709551616) { nodes { id } } }", {},
         "GRAPHQL_VALIDATION_FAILED"),
        # a 5,000-digit literal: int() refuses to convert it (its text reached the client)
        ("{ shipments(first: " + "9" * 5000 + ") { nodes { id } } }", {},
         "GRAPHQL_VALIDATION_FAILED"),
        # a nested first, in a fragment
        ("{ ...F } fragment F on Query { customers(first: 1) { nodes { orders(first: "
         "4294967296) { nodes { id } } } } }", {}, "GRAPHQL_VALIDATION_FAILED"),
        # orjson decodes a JSON number past 64 bits as a float: graphql-core's coercion refuses it
        ("query($n: Int) { shipments(first: $n) { nodes { id } } }",
         {"n": 18446744073709551616}, "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int) { shipments(first: $n) { nodes { id } } }", {"n": 2**40},
         "BAD_USER_INPUT"),
        ("query($n: Int = 2147483647) { shipments(first: $n) { nodes { id } } }", {},
         "BAD_USER_INPUT"),
        ("{ shipments(first: -1) { nodes { id } } }", {}, "BAD_USER_INPUT"),
    ],
)  # fmt: skip
async def test_int_arguments_are_range_checked_before_the_cost_is_estimated(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], code: str
) -> None:
    body = json.dumps({"query": query, "variables": variables}).encode()
    response = await post_raw(http, body)

    assert response.status_code == 400, response.text[:300]
    error = error_of(response)
    assert error["extensions"]["code"] == code
    assert len(error["message"]) < 300  # a 5,000-digit value is not echoed whole


def test_the_cost_estimate_stops_at_a_number_json_keeps_exact() -> None:
    nested = "orders(first: 2147483647) { nodes { customer { " * 6
    document = parse("{ " + nested + "id" + " } } }" * 6 + " }")

    (metrics,) = measure_document(build_schema()._schema, document, default_list_size=20)

    assert metrics.cost == COST_CEILING


@pytest.mark.parametrize(
    "since",
    [
        "0001-01-01T00:00:00+14:00",  # not representable in UTC: OverflowError, 500 text/plain
        "9999-12-31T23:30:00Z",  # overflows in the ERP site's zone: 500 JSON
        "0001-01-01T00:00:00Z",  # a day short of the range
    ],
)
async def test_an_out_of_range_updated_since_is_a_400_naming_the_parameter(
    http: httpx.AsyncClient, since: str
) -> None:
    response = await http.get("/views/shipments.ndjson", params={"updated_since": since})

    assert response.status_code == 400, response.text[:300]
    error = error_of(response)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "updated_since"}
    assert "out of range" in error["message"]


@pytest.mark.parametrize("field", ["shipments", "orders", "customers"])
async def test_an_out_of_range_updated_since_argument_is_bad_user_input(
    http: httpx.AsyncClient, field: str
) -> None:
    query = f'{{ {field}(first: 1, updatedSince: "9999-12-31T23:30:00Z") {{ nodes {{ id }} }} }}'
    literal = await http.post("/graphql", json={"query": query}, headers=ACCEPT)
    variable = await http.post(
        "/graphql",
        json={
            "query": f"query($s: DateTime) {{ {field}(first: 1, updatedSince: $s) "
            "{ nodes { id } } }",
            "variables": {"s": "0001-01-01T00:00:00+14:00"},
        },
        headers=ACCEPT,
    )

    for response in (literal, variable):
        assert response.status_code == 400, response.text[:300]
        assert error_of(response)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_earliest_datetime_reaches_zoho_with_a_four_digit_year(
    http: httpx.AsyncClient,
) -> None:
    query = '{ orders(first: 1, updatedSince: "0001-01-02T00:00:00Z") { nodes { number } } }'
    response = await http.post("/graphql", json={"query": query}, headers=ACCEPT)

    body = response.json()
    assert "errors" not in body, body  # Zoho refused "1-01-02T00:00:00+00:00"
    assert len(body["data"]["orders"]["nodes"]) == 1


def test_backend_datetimes_are_written_with_four_digit_years() -> None:
    early = datetime(1, 1, 2, tzinfo=UTC)
    assert format_offset_datetime(early) == "0001-01-02T00:00:00+00:00"
    kolkata = ZoneInfo("Asia/Kolkata")
    assert format_naive_datetime(early, kolkata).startswith("0001-01-02 05:")
    with pytest.raises(InvalidInput, match="out of range"):
        format_naive_datetime(datetime(9999, 12, 31, 23, tzinfo=UTC), kolkata)


async def test_several_operations_without_an_operation_name_is_a_request_error(
    http: httpx.AsyncClient,
) -> None:
    query = 'query A { viewer { roles } } mutation B { cancelOrder(id: "SO-1") { __typename } }'
    response = await http.post("/graphql", json={"query": query}, headers=ACCEPT)

    assert response.status_code == 400
    error = error_of(response)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "A, B" in error["message"]
    assert "data" not in response.json()  # nothing ran: before, the first operation did


async def test_an_operation_name_naming_no_operation_of_several_is_a_request_error(
    http: httpx.AsyncClient,
) -> None:
    query = "query A { viewer { roles } } query B { viewer { subject } }"
    body = {"query": query, "operationName": "C"}
    response = await http.post("/graphql", json=body, headers=ACCEPT)

    assert response.status_code == 400
    assert error_of(response)["extensions"]["code"] == "OPERATION_NOT_FOUND"
    chosen = await http.post("/graphql", json={**body, "operationName": "B"}, headers=ACCEPT)
    assert chosen.json() == {"data": {"viewer": {"subject": "test-admin"}}}


async def broken(request: Request) -> Response:
    raise RuntimeError("secret internals: /srv/crossdock/db password=hunter2")


class BrokenBeforeExecution(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        raise RuntimeError("secret internals: /srv/crossdock/db password=hunter2")
        yield  # pragma: no cover


async def test_an_unexpected_error_anywhere_is_a_json_500_with_the_request_id(
    settings: Settings, crm: ZohoCRM, scm: ERPNext
) -> None:
    app = create_app(
        settings,
        crm=crm,
        scm=scm,
        routes=[Route("/broken", broken)],
        extensions=[BrokenBeforeExecution],
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as client:
        route = await client.get("/broken", headers={"x-request-id": "req-1"})
        graphql = await client.post("/graphql", json={"query": SMALL}, headers=ACCEPT)
        unknown = await client.get("/nowhere")

    assert route.status_code == 500
    assert route.headers["content-type"].startswith("application/json")
    assert route.json()["errors"][0]["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "req-1",
    }
    assert route.headers["x-request-id"] == "req-1"
    # an extension failing before execution: its exception text reached the client
    error = error_of(graphql)
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["requestId"] == graphql.headers["x-request-id"]
    assert "hunter2" not in route.text + graphql.text
    assert unknown.status_code == 404
    assert error_of(unknown)["extensions"]["code"] == "NOT_FOUND"
