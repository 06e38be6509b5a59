"""No input from a client produces a 5xx: a corpus of odd bodies, arguments and headers
against /graphql and the /views routes of the production app (over httpx.ASGITransport).

Every answer must be below 500, carry an x-request-id, and be JSON that parses, except a
successful export (CSV or NDJSON) and GraphiQL's page. Each test walks its corpus and
reports every request that broke the rule at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.stack import token_for

JSON_TYPES = ("application/json", "application/graphql-response+json")
EXPORT_TYPES = ("text/csv", "application/x-ndjson")
DEEP_LIST: Any = 1
for _ in range(200):
    DEEP_LIST = [DEEP_LIST]


@dataclass(frozen=True)
class Call:
    """One request of the corpus."""

    method: str
    url: str
    content: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def graphql_post(body: Any, **headers: str) -> Call:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"content-type": "application/json", **headers}
    return Call("POST", "/graphql", content=content, headers=sent)


BODIES: list[bytes] = [
    b"", b"42", b'"x"', b"true", b"null", b"[]", b"[1]", b"{}", b"[{}]", b"{", b"\xff\xfe",
    b'{"query": 5}', b'{"query": ["{ viewer { roles } }"]}', b'{"query": {}}',
    b'{"query": "{ viewer { roles } }", "variables": "{}"}',
    b'{"query": "{ viewer { roles } }", "variables": 1e999}',
    b'{"query": "{ viewer { roles } }", "operationName": {"a": 1}}',
    b'{"query": "{ viewer { roles } }", "operationName": ""}',
    b'{"query": "{ viewer { roles } }", "extensions": {"persistedQuery": 5}}',
    b'{"query": "{ viewer { roles } }", "extensions": {"documentId": []}}',
    b'{"documentId": "sha256:00"}', b'{"documentId": 5}',
    b'{"query": "{ viewer { roles } }", "query": 5}',
    b'{"query": "\\u0000{ viewer { roles } }"}', b'{"query": "\\ud800"}',
    b'{"query": "' + b"{" * 5000 + b'"}',
    b'{"query": "{ viewer { roles } }"' + b" " * 500_000 + b"}",
    b"[" * 5000 + b"]" * 5000,
    b'{"query": "query A { viewer { roles } } query A { viewer { roles } }"}',
    b'{"query": "query A { viewer { roles } } query B { viewer { roles } }", "operationName": "A"}',
    b'{"query": "subscription { viewer { roles } }"}',
    b'{"query": "{ __schema { types { fields { type { fields { type { name } } } } } } }"}',
]  # fmt: skip

Q = "query($v: {type}) {{ {field} }}"
ARGUMENTS: list[tuple[str, dict[str, Any]]] = [
    ("{ shipments(first: 18446744073709551616) { nodes { id } } }", {}),
    ("{ shipments(first: -2147483649) { nodes { id } } }", {}),
    ("{ shipments(first: " + "9" * 100_000 + ") { nodes { id } } }", {}),
    ("{ shipments(first: 1.5) { nodes { id } } }", {}),
    ("{ shipments(first: 1e400) { nodes { id } } }", {}),
    ("{ shipments(first: -1) { nodes { id } } }", {}),
    ("{ shipments(first: null) { nodes { id } } }", {}),
    ('{ shipments(first: "1") { nodes { id } } }', {}),
    ("{ shipments(first: [[[[[[1]]]]]]) { nodes { id } } }", {}),
    ("{ shipments(first: {a: 1}) { nodes { id } } }", {}),
    ("query($n: Int!) { shipments(first: $n) { nodes { id } } }", {}),
    ("query($n: Int!) { shipments(first: $n) { nodes { id } } }", {"n": None}),
    ("query($n: Int) { shipments(first: $n) { nodes { id } } }", {"n": 2**63}),
    ("query($n: Int) { shipments(first: $n) { nodes { id } } }", {"n": 1e308}),
    ("query($n: Int) { shipments(first: $n) { nodes { id } } }", {"n": 2.0}),
    ("query($n: Int) { shipments(first: $n) { nodes { id } } }", {"n": True}),
    ("query($n: Int) { shipments(first: $n) { nodes { id } } }", {"n": DEEP_LIST}),
    ("query($n: Int) { shipments(first: $n) { nodes { id } } }", {"n": {"$gt": 1}}),
    ("query($n: Int = 99999999999) { shipments(first: $n) { nodes { id } } }", {}),
    ("query($n: [Int]) { shipments(first: $n) { nodes { id } } }", {"n": [1]}),
    ('{ shipments(first: 1, carrier: "\\u0000\'\\"); DROP") { nodes { id } } }', {}),
    ('{ shipments(first: 1, carrier: "' + "é漢🚚" * 2000 + '") { nodes { id } } }', {}),
    ("{ shipments(first: 1, status: NOPE) { nodes { id } } }", {}),
    ('{ shipments(first: 1, status: "DELIVERED") { nodes { id } } }', {}),
    ('{ shipments(first: 1, after: "////") { nodes { id } } }', {}),
    ('{ shipments(first: 1, after: "' + "A" * 50_000 + '") { nodes { id } } }', {}),
    ('{ customers(first: 2, search: "a)or(Account_Name:starts_with:") { nodes { id } } }', {}),
    ('{ customers(first: 2, search: "\\\\,()") { nodes { id } } }', {}),
    ('{ orders(first: 2, customerId: "\' or 1=1") { nodes { id } } }', {}),
    ('{ order(number: "") { id } }', {}),
    ("{ order(number: null) { id } }", {}),
    ('{ order(id: "1", number: "2") { id } }', {}),
    ('{ customer(id: "' + "9" * 5000 + '") { id } }', {}),
    ('{ shipment(id: "../../etc/passwd") { id } }', {}),
    ('{ product(sku: "%00") { sku } }', {}),
    ("query($s: DateTime) { orders(first: 1, updatedSince: $s) { nodes { id } } }",
     {"s": "0001-01-01T00:00:00+14:00"}),
    ("query($s: DateTime) { shipments(first: 1, updatedSince: $s) { nodes { id } } }",
     {"s": "9999-12-31T23:30:00Z"}),
    ("query($s: DateTime) { customers(first: 1, updatedSince: $s) { nodes { id } } }",
     {"s": "9999-12-31T23:59:59.999999-14:00"}),
    ("query($s: DateTime) { orders(first: 1, updatedSince: $s) { nodes { id } } }",
     {"s": 1_700_000_000}),
    ("query($s: DateTime) { orders(first: 1, updatedSince: $s) { nodes { id } } }",
     {"s": "2026-02-30T00:00:00Z"}),
    ("query($s: DateTime) { orders(first: 1, updatedSince: $s) { nodes { id } } }",
     {"s": "2026-03-01T00:00:00+25:00"}),
    ('{ orders(first: 1, updatedSince: "0001-01-02T00:00:00Z") { nodes { id } } }', {}),
    ('{ shipments(first: 1, updatedSince: "9999-12-30T23:59:59Z") { nodes { id } } }', {}),
    ('mutation { cancelOrder(id: "' + "x" * 10_000 + '") { __typename } }', {}),
    ('mutation { approveOrder(id: "\\u0000") { __typename } }', {}),
    ("mutation($q: Decimal!) { placeOrder(idempotencyKey: \"k\", input: {customerId: \"1\", "
     'lines: [{sku: "SKU-00001", quantity: $q}]}) { status } }', {"q": "1e999999"}),
    ("mutation($q: Decimal!) { placeOrder(idempotencyKey: \"k\", input: {customerId: \"1\", "
     'lines: [{sku: "SKU-00001", quantity: $q}]}) { status } }', {"q": "-0"}),
    ('mutation { placeOrder(idempotencyKey: "", input: {customerId: "", lines: []}) '
     "{ status } }", {}),
]  # fmt: skip

HEADERS: list[dict[str, str]] = [
    {"content-type": "application/json; charset=utf-16"},
    {"content-type": "application/json; charset"},
    {"content-type": "application/json;;;;"},
    {"content-type": "application/graphql"},
    {"content-type": "application/x-www-form-urlencoded"},
    {"content-type": "multipart/form-data; boundary=x"},
    {"content-type": "text/plain", "x-crossdock-csrf": "1"},
    {"content-type": "*/*"},
    {"content-type": "é/ü"},
    {"accept": "application/graphql-response+json;q=abc"},
    {"accept": "application/graphql-response+json;q=0"},
    {"accept": "text/html"},
    {"accept": "application/xml"},
    {"accept": ",".join(["text/plain;q=0.1"] * 500)},
    {"accept": "*/*;q=" + "9" * 4000},
    {"authorization": "Bearer " + "a" * 8000},
    {"authorization": "Bearer a.b.c"},
    {"authorization": "Bearer"},
    {"authorization": "Basic dXNlcjpwYXNz"},
    {"authorization": "Bearer ÿÿ.ÿÿ.ÿÿ"},
    {"x-request-id": "x" * 4000},
    {"x-request-id": "é"},
    {"content-length": "²"},
    {"content-length": "-1"},
    {"x-forwarded-for": "1.2.3.4, ::1, garbage"},
    {"cookie": "a=" + "b" * 4000},
]

VIEW_PARAMS: list[dict[str, str]] = [
    {},
    {"updated_since": "0001-01-01T00:00:00+14:00"},
    {"updated_since": "9999-12-31T23:30:00Z"},
    {"updated_since": "0001-01-02T00:00:00Z"},
    {"updated_since": ""},
    {"updated_since": "now"},
    {"updated_since": "2026-03-01T10:00:00 01:00"},
    {"updated_since": "2026-03-01T10:00:00\x00Z"},
    {"updated_since": "9" * 30_000},
    {"limit": "²"},
    {"limit": "9" * 5000},
    {"limit": "0"},
    {"limit": "-1"},
    {"limit": "1e3"},
    {"limit": "１"},
    {"limit": "1", "first": "5"},
    {"after": "x"},
]
VIEW_PATHS = [
    "/views",
    "/views/shipments.ndjson",
    "/views/order_lines.csv",
    "/views/stock_levels",
    "/views/stock_levels.xlsx",
    "/views/nope.csv",
    "/views/%00.csv",
    "/views/..%2f..%2fetc.csv",
    "/views/" + "a" * 5000 + ".csv",
    "/views/shipments.ndjson.csv",
    "/views/shipments.",
]


def problems(call: Call, response: httpx.Response) -> list[str]:
    """What is wrong with the answer to `call` (empty when it keeps the rule)."""
    where = f"{call.method} {call.url[:60]} {call.params} {str(call.headers)[:80]} " + (
        f"{(call.content or b'')[:80]!r}"
    )
    found = []
    if response.status_code >= 500:
        found.append(f"{response.status_code}")
    if not response.headers.get("x-request-id"):
        found.append("no x-request-id")
    media = response.headers.get("content-type", "").split(";")[0]
    success_formats = (*EXPORT_TYPES, "text/html") if response.status_code == 200 else ()
    if media not in JSON_TYPES and media not in success_formats:
        found.append(f"content-type {media!r}")
    elif media in JSON_TYPES:
        try:
            json.loads(response.content)
        except ValueError:
            found.append("invalid JSON")
    return [f"{where}: {', '.join(found)}: {response.text[:120]!r}"] if found else []


async def walk(http: httpx.AsyncClient, calls: Iterable[Call]) -> list[str]:
    found: list[str] = []
    for call in calls:
        # header values go as UTF-8 bytes (the server reads them as latin-1), as clients send
        headers = {name: value.encode() for name, value in call.headers.items()}
        request = http.build_request(
            call.method, call.url, content=call.content, params=call.params, headers=headers
        )
        found += problems(call, await http.send(request))
    return found


ACCEPTS = [{}, {"accept": "application/graphql-response+json"}, {"accept": "application/json"}]


async def test_odd_bodies_never_get_a_5xx(http: httpx.AsyncClient) -> None:
    calls = [graphql_post(body, **accept) for body in BODIES for accept in ACCEPTS]
    assert await walk(http, calls) == []


async def test_odd_arguments_never_get_a_5xx(http: httpx.AsyncClient) -> None:
    calls = [graphql_post({"query": q, "variables": v}, **a) for q, v in ARGUMENTS for a in ACCEPTS]
    gets = [
        Call("GET", "/graphql", params={"query": q, "variables": json.dumps(v)})
        for q, v in ARGUMENTS
        if not q.startswith("mutation") and len(q) < 20_000
    ]
    assert await walk(http, [*calls, *gets]) == []


async def test_odd_headers_never_get_a_5xx(http: httpx.AsyncClient) -> None:
    body = {"query": "{ shipments(first: 2) { nodes { id } } }"}
    calls = [graphql_post(body, **headers) for headers in HEADERS]
    gets = [
        Call("GET", url, params=params, headers=headers)
        for headers in HEADERS
        for url, params in [("/graphql", {"query": "{ viewer { roles } }"}), ("/views", {})]
    ]
    odd_gets = [
        Call("GET", "/graphql", params={"query": "%ff", "variables": "{", "extensions": "[]"}),
        Call("GET", "/graphql", params={"operationName": "x"}),
        Call("DELETE", "/graphql"),
        Call("PUT", "/views/shipments.ndjson"),
        Call("GET", "/nowhere"),
    ]
    assert await walk(http, [*calls, *gets, *odd_gets]) == []


async def test_odd_view_requests_never_get_a_5xx(http: httpx.AsyncClient) -> None:
    partner = {"authorization": f"Bearer {token_for('partner', partner_id='DHL')}"}
    # every path with no parameters, then the parameters against one incremental export;
    # as an admin (the client's own token) and as a partner
    calls = [
        *(Call("GET", path, headers=headers) for path in VIEW_PATHS for headers in [{}, partner]),
        *(
            Call("GET", "/views/shipments.ndjson", params=params, headers=headers)
            for params in VIEW_PARAMS
            for headers in [{}, partner]
        ),
    ]
    accepts = [
        Call("GET", "/views/shipments", headers={"accept": accept})
        for accept in ["text/csv", "application/x-ndjson", "image/png", "", "*/*", "é"]
    ]
    assert await walk(http, [*calls, *accepts]) == []
