from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import strawberry
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from gateway.protection.http_guard import HttpGuard

LIMIT = 30_000
JSON = {"content-type": "application/json"}
GRAPHQL_RESPONSE = "application/graphql-response+json"


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Stands in for the GraphQL app: answers 200 with the body it received."""
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    payload = json.dumps({"path": scope["path"], "received": len(body)}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": payload})


def client(*, csrf: bool = True, max_batch: int = 10) -> httpx.AsyncClient:
    guard = HttpGuard(echo_app, max_body_bytes=LIMIT, max_batch=max_batch, csrf=csrf)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://gw")


def op(query: str = "{ viewer { subject } }") -> bytes:
    return json.dumps({"query": query}).encode()


BIG_STRING = op('{ customers(search: "' + "x" * 10_000_000 + '") { nodes { id } } }')

# Each row: method, headers, body, query params, expected status, expected code.
HOSTILE = [
    # a 10 MB string literal: refused on Content-Length, never read or parsed
    ("POST", JSON, BIG_STRING, None, 413, "REQUEST_TOO_LARGE"),
    # invalid JSON never reaches the GraphQL app
    ("POST", JSON, b'{"query": "{ viewer', None, 400, "INVALID_JSON"),
    # JSON nested 14,000 deep: Python's decoder hits its recursion limit
    ("POST", JSON, b"[" * 14_000 + b"]" * 14_000, None, 400, "INVALID_JSON"),
    # bytes that are not UTF-8
    ("POST", JSON, b"\xff\xfe{}", None, 400, "INVALID_JSON"),
    # a batch of 1,000 operations: one request fanning out into 1,000 executions
    ("POST", JSON, json.dumps([{"query": "{a}"}] * 1_000).encode(), None, 400, "BATCH_TOO_LARGE"),
    # one operation over the batch limit
    ("POST", JSON, json.dumps([{"query": "{a}"}] * 11).encode(), None, 400, "BATCH_TOO_LARGE"),
    # simple content types: a cross-site form or fetch could send these without a preflight
    ("POST", {"content-type": "text/plain"}, op(), None, 400, "CSRF_REJECTED"),
    (
        "POST",
        {"content-type": "application/x-www-form-urlencoded"},
        b"query=%7Ba%7D",
        None,
        400,
        "CSRF_REJECTED",
    ),
    (
        "POST",
        {"content-type": "multipart/form-data; boundary=x"},
        b"--x--",
        None,
        400,
        "CSRF_REJECTED",
    ),
    # no content type at all is just as simple
    ("POST", {}, op(), None, 400, "CSRF_REJECTED"),
    # a GET operation without a preflight-forcing header (an <img src> could send it)
    ("GET", {}, b"", {"query": "{ viewer { subject } }"}, 400, "CSRF_REJECTED"),
    # a non-simple but wrong content type
    ("POST", {"content-type": "application/xml"}, b"<q/>", None, 415, "UNSUPPORTED_MEDIA_TYPE"),
    (
        "POST",
        {"content-type": "application/graphql"},
        b"{ a }",
        None,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    # JSON in another charset than UTF-8 (RFC 8259 allows only UTF-8 between systems)
    (
        "POST",
        {"content-type": "application/json; charset=iso-8859-1"},
        op(),
        None,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    # a query string longer than the body limit
    (
        "GET",
        {"x-crossdock-csrf": "1"},
        b"",
        {"query": "{" + "a " * LIMIT + "}"},
        413,
        "REQUEST_TOO_LARGE",
    ),
    # a lying Content-Length
    ("POST", {**JSON, "content-length": "abc"}, op(), None, 400, "BAD_REQUEST"),
    # a latin-1 superscript two: str.isdigit() says yes, int() says no
    ("POST", {**JSON, "content-length": b"\xb2"}, op(), None, 400, "BAD_REQUEST"),
]


@pytest.mark.parametrize(("method", "headers", "body", "params", "status", "code"), HOSTILE)
async def test_hostile_requests_get_their_status_and_code_then_the_server_still_answers(
    method: str,
    headers: dict[str, Any],  # bytes for values httpx must not encode
    body: bytes,
    params: dict[str, str] | None,
    status: int,
    code: str,
) -> None:
    async with client() as http:
        headers = {"accept": GRAPHQL_RESPONSE, **headers}
        response = await http.request(
            method, "/graphql", headers=headers, content=body, params=params
        )
        assert response.status_code == status
        assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == code
        assert error["message"]
        normal = await http.post("/graphql", content=op(), headers=JSON)
        assert normal.status_code == 200


async def test_a_streamed_body_is_cut_off_at_the_limit_without_reading_the_rest() -> None:
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(1_000):
            pulled += 1
            yield b"x" * 10_000

    async with client() as http:
        response = await http.post("/graphql", content=chunks(), headers=JSON)
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "REQUEST_TOO_LARGE", "limit": LIMIT, "measured": 40_000}
    assert "over the limit of 30000 bytes" in error["message"]
    assert pulled <= 5  # 4 chunks cross the limit; the other 996 are never read


async def test_a_batch_within_the_limit_passes_through_whole() -> None:
    body = json.dumps([{"query": "{ a }"}] * 10).encode()
    async with client() as http:
        response = await http.post("/graphql", content=body, headers=JSON)
    assert response.status_code == 200
    assert response.json()["received"] == len(body)


async def test_with_batching_off_any_array_is_refused() -> None:
    async with client(max_batch=0) as http:
        response = await http.post("/graphql", content=b'[{"query": "{a}"}]', headers=JSON)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BATCH_TOO_LARGE"
    assert "not accepted" in error["message"]


async def test_the_batch_error_states_limit_and_measured() -> None:
    body = json.dumps([{"query": "{ a }"}] * 12).encode()
    async with client() as http:
        response = await http.post("/graphql", content=body, headers=JSON)
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "BATCH_TOO_LARGE", "limit": 10, "measured": 12}


@pytest.mark.parametrize(
    "headers",
    [
        # a header a browser must preflight
        {"x-crossdock-csrf": "1"},
        {"apollo-require-preflight": "true"},
        # a non-simple content type also forces a preflight
        {"content-type": "application/json"},
    ],
)
async def test_a_get_operation_with_a_preflight_forcing_header_passes(
    headers: dict[str, str],
) -> None:
    async with client() as http:
        response = await http.get("/graphql", params={"query": "{ a }"}, headers=headers)
    assert response.status_code == 200


async def test_graphiqls_page_load_is_not_an_operation_and_passes() -> None:
    async with client() as http:
        response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200


async def test_json_with_a_charset_parameter_is_accepted() -> None:
    async with client() as http:
        headers = {"content-type": "application/json; charset=utf-8"}
        response = await http.post("/graphql", content=op(), headers=headers)
    assert response.status_code == 200


async def test_with_csrf_off_a_simple_content_type_is_only_the_wrong_media_type() -> None:
    async with client(csrf=False) as http:
        refused = await http.post("/graphql", content=op(), headers={"content-type": "text/plain"})
        allowed = await http.get("/graphql", params={"query": "{ a }"})
    assert refused.status_code == 415
    assert "application/json" in refused.json()["errors"][0]["message"]
    assert allowed.status_code == 200


async def test_other_paths_are_not_guarded() -> None:
    async with client() as http:
        response = await http.post(
            "/webhooks/zoho", content=b"not json", headers={"content-type": "text/plain"}
        )
    assert response.status_code == 200
    assert response.json()["path"] == "/webhooks/zoho"


async def test_the_csrf_error_names_the_fix() -> None:
    async with client() as http:
        response = await http.post("/graphql", content=op(), headers={"content-type": "text/plain"})
    message = response.json()["errors"][0]["message"]
    assert "application/json" in message
    assert "x-crossdock-csrf" in message


async def test_the_csrf_error_of_a_get_names_the_header_to_add() -> None:
    async with client() as http:
        response = await http.get("/graphql", params={"query": "{ a }"})
    message = response.json()["errors"][0]["message"]
    assert message.endswith(
        "Add a non-empty 'x-crossdock-csrf' (or 'apollo-require-preflight') header to GET "
        "requests, e.g. 'x-crossdock-csrf: 1'."
    )
    assert "Content-Type" not in message  # a GET has no body whose type could change


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "world") -> str:
        return f"hello {name}"


async def test_the_replayed_body_reaches_a_real_strawberry_app_intact() -> None:
    guard = HttpGuard(GraphQL(strawberry.Schema(Query)), max_body_bytes=LIMIT, max_batch=10)
    transport = httpx.ASGITransport(app=guard)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        body = {"query": "query($n: String!) { hello(name: $n) }", "variables": {"n": "dock"}}
        response = await http.post("/graphql", json=body)
        refused = await http.post("/graphql", json=[{"query": "{ hello }"}] * 11)
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "hello dock"}}
    assert refused.json()["errors"][0]["extensions"]["code"] == "BATCH_TOO_LARGE"


async def test_a_client_accepting_only_json_gets_200_with_errors_for_invalid_json() -> None:
    # GraphQL-over-HTTP keeps 200 for legacy application/json clients (graphql-http audit D477).
    async with client() as http:
        headers = {**JSON, "accept": "application/json"}
        response = await http.post("/graphql", content=b'{ "not a JSON', headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_JSON"


async def test_a_client_accepting_only_json_still_gets_413_for_a_body_too_large() -> None:
    async with client() as http:
        response = await http.post("/graphql", content=b" " * (LIMIT + 1), headers=JSON)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json; charset=utf-8"


async def test_a_post_without_a_body_is_refused_with_errors() -> None:
    async with client() as http:
        response = await http.post("/graphql", headers={**JSON, "accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_JSON"
