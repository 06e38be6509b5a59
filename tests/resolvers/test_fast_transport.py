"""The aiohttp adapter `crossdock serve` sends backend requests with, over real sockets.

Each behaviour the Requester relies on is checked against the emulations served by uvicorn
(or a bare asyncio server where a failure must happen mid-request): keep-alive reuse and the
connection limit, a refused connection retried even for a write, the read timeout (the
emulation's latency knob), a write never resent once the request went out, the bytes on the
wire equal to httpx's, traceparent injection, and the same error messages as over httpx.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.types import ASGIApp, Receive, Scope, Send

from backends.erpnext.app import ErpEmulator
from backends.serve import serving
from gateway.observe.tracing import Tracing
from resolvers.erpnext import ERPNext
from resolvers.errors import BackendTimeout, BackendUnavailable
from resolvers.fast_transport import AiohttpTransport, wire_url
from resolvers.http import Requester, RetryPolicy, Timeouts
from resolvers.transport import Reply, Transport
from tests.support.connectors import SleepSpy, erp_options

pytestmark = pytest.mark.sockets

MakeClient = Callable[[], Transport | httpx.AsyncClient]


class Peers:
    """ASGI wrapper that notes each request's client port: one port per TCP connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.ports: list[int] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("client"):
            self.ports.append(scope["client"][1])
        await self.app(scope, receive, send)


@pytest.fixture(params=["aiohttp", "httpx"])
def make_client(request: pytest.FixtureRequest) -> MakeClient:
    """Both adapters, so every rule below is shown to hold for the one serve uses and to
    match what httpx does."""
    if request.param == "aiohttp":
        return lambda: AiohttpTransport(max_connections=10)
    return httpx.AsyncClient


async def closing(client: Transport | httpx.AsyncClient) -> None:
    await client.aclose()


def requester(client: Transport | httpx.AsyncClient, spy: SleepSpy, attempts: int) -> Requester:
    return Requester(
        client,
        system="scm",
        label="ERPNext",
        timeouts=Timeouts(connect=0.5, read=0.2),
        retry=RetryPolicy(attempts=attempts),
        sleep=spy,
    )


@pytest.fixture
async def peers(erp_emulator: ErpEmulator) -> AsyncIterator[tuple[Peers, str]]:
    wrapped = Peers(erp_emulator.app)
    async with serving(wrapped, "127.0.0.1", 0, timeout_graceful_shutdown=1) as port:
        yield wrapped, f"http://127.0.0.1:{port}"


async def test_requests_reuse_kept_alive_connections_within_the_limit(
    peers: tuple[Peers, str],
) -> None:
    seen, url = peers
    transport = AiohttpTransport(max_connections=2)
    scm = ERPNext(transport, erp_options(base_url=url))
    try:
        for _ in range(5):
            await scm.list_bins(["SKU-1"])
        assert len(set(seen.ports)) == 1  # one after the other: one connection, kept alive
        await asyncio.gather(*(scm.list_bins([f"SKU-{n}"]) for n in range(8)))
    finally:
        await transport.aclose()
    assert len(seen.ports) == 13
    assert len(set(seen.ports)) == 2  # eight at once: never more than the limit


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_a_refused_connection_is_retried_even_for_a_write(make_client: MakeClient) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/resource/Sales%20Order"
    client, sleep = make_client(), SleepSpy()
    try:
        with pytest.raises(BackendUnavailable) as caught:
            await requester(client, sleep, attempts=3).send("POST", url, json={"a": 1})
    finally:
        await closing(client)
    assert caught.value.message == (
        "ERPNext could not be reached for POST /api/resource/Sales Order (ConnectError); "
        "retried 2 times"
    )
    assert len(sleep.delays) == 2  # nothing was sent: a write may be tried again


async def test_a_slow_emulation_is_a_read_timeout_and_only_a_read_is_retried(
    make_client: MakeClient, erp_emulator: ErpEmulator
) -> None:
    erp_emulator.controls.update({"latency_ms": 1000})
    async with serving(erp_emulator.app, "127.0.0.1", 0, timeout_graceful_shutdown=1) as port:
        url = f"http://127.0.0.1:{port}/api/resource/Bin"
        client, sleep = make_client(), SleepSpy()
        try:
            with pytest.raises(BackendTimeout) as read:
                await requester(client, sleep, attempts=2).send("GET", url)
            await wait_for(lambda: erp_emulator.stats.total == 2)
            with pytest.raises(BackendTimeout) as write:
                await requester(client, sleep, attempts=2).send("POST", url, json={})
            await wait_for(lambda: erp_emulator.stats.total == 3)
        finally:
            await closing(client)
    assert read.value.message == (
        "ERPNext did not answer GET /api/resource/Bin within 0.2s; retried 1 time"
    )
    assert write.value.message == (
        "ERPNext did not answer POST /api/resource/Bin within 0.2s; retried 0 times"
    )
    assert len(sleep.delays) == 1  # the GET's one retry; the POST may have been processed


async def wait_for(check: Callable[[], bool], *, within_s: float = 10.0) -> None:
    """Wait until `check()` holds (polled): the emulation counts a request on arrival."""
    deadline = asyncio.get_running_loop().time() + within_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not true after {within_s} s")
        await asyncio.sleep(0.01)


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request as it arrived: its head and its body (by Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + await reader.readexactly(length)


@pytest.fixture
async def hang_up() -> AsyncIterator[tuple[list[bytes], int]]:
    """A server that reads each request whole and closes the connection without answering."""
    requests: list[bytes] = []

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await read_request(reader))
        writer.close()

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    yield requests, server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_a_write_whose_request_went_out_is_not_resent(
    make_client: MakeClient, hang_up: tuple[list[bytes], int]
) -> None:
    requests, port = hang_up
    url = f"http://127.0.0.1:{port}/api/resource/Sales%20Order"
    client, sleep = make_client(), SleepSpy()
    try:
        with pytest.raises(BackendUnavailable) as write:
            await requester(client, sleep, attempts=3).send("POST", url, json={"n": 1})
        assert len(requests) == 1
        with pytest.raises(BackendUnavailable) as read:
            await requester(client, sleep, attempts=3).send("GET", url)
    finally:
        await closing(client)
    assert write.value.message == (
        "ERPNext could not be reached for POST /api/resource/Sales Order "
        "(RemoteProtocolError); retried 0 times"
    )
    assert read.value.message.endswith("(RemoteProtocolError); retried 2 times")
    assert len(requests) == 4  # the write once, the read three times
    assert requests[0].endswith(b'{"n":1}')


class Wire:
    """What a server received: the request line, the Content-Type, the body."""

    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.line = lines[0]
        types = [
            v for n, _, v in (x.partition(b":") for x in lines) if n.lower() == b"content-type"
        ]
        self.content_type = types[0].strip() if types else None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Wire) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return repr(vars(self))


async def on_the_wire(client: Transport | httpx.AsyncClient, **request: Any) -> Wire:
    """The request `Requester.send(**request)` puts on the wire, as a bare server reads it."""
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}{request.pop('path')}"
    try:
        reply = await requester(client, SleepSpy(), attempts=1).send(url=url, **request)
    finally:
        server.close()
        await server.wait_closed()
    assert reply.status_code == 204
    return Wire(seen[0])


FILTER = '[["name","in",["a b","c+d","é","x%y","a&b","q\\"r","[]{}|^`<>"]]]'
REQUESTS: dict[str, dict[str, Any]] = {
    "path and query to quote": {
        "method": "GET",
        "path": "/api/resource/Sales Order/SO-1 é",
        "params": {"filters": FILTER, "fields": '["*"]', "tab": "a\tb"},
    },
    "escapes kept": {
        "method": "GET",
        "path": "/crm/v8/Accounts/search?criteria=(A:eq:A%2FB)&x=%zz",
    },
    "dot segments": {"method": "GET", "path": "/api/resource/Item/./a/../b"},
    "empty path": {"method": "GET", "path": ""},
    "json body": {
        "method": "POST",
        "path": "/api/resource/Item",
        "json": {"name": "Ä €", "q": 1.5},
    },
    "form body": {"method": "POST", "path": "/oauth/v2/token", "data": {"code": "a b&c=d+é"}},
    "own content type": {
        "method": "POST",
        "path": "/x",
        "json": [1],
        "headers": {"content-type": "application/vnd.x+json"},
    },
}


@pytest.mark.parametrize("name", list(REQUESTS))
async def test_the_bytes_on_the_wire_are_what_httpx_sends(name: str) -> None:
    fast = AiohttpTransport(max_connections=1)
    try:
        ours = await on_the_wire(fast, **dict(REQUESTS[name]))
    finally:
        await fast.aclose()
    async with httpx.AsyncClient() as client:
        theirs = await on_the_wire(client, **dict(REQUESTS[name]))
    assert ours == theirs


def test_a_url_is_sent_as_given_when_it_needs_no_quoting() -> None:
    url = "http://erp:8000/api/resource/Bin?filters=%5B%5D&limit_page_length=500"
    assert str(wire_url(url)) == url


async def test_each_try_carries_a_traceparent_and_is_observed(
    peers: tuple[Peers, str], erp_emulator: ErpEmulator
) -> None:
    _, url = peers
    exporter = InMemorySpanExporter()
    tracing = Tracing.with_processor(SimpleSpanProcessor(exporter))
    transport = AiohttpTransport(max_connections=2)
    scm = ERPNext(transport, erp_options(base_url=url))
    seen: list[Any] = []
    scm.requester.trace, scm.requester.observe = tracing.attempt, seen.append
    try:
        await scm.list_bins(["SKU-1"])
    finally:
        await transport.aclose()
    [span] = exporter.get_finished_spans()
    assert span.context is not None
    assert f"{span.context.trace_id:032x}" in erp_emulator.traces.received
    assert [(a.method, a.route, a.outcome) for a in seen] == [("GET", "/api/resource/Bin", "200")]


def test_a_reply_decodes_what_orjson_refuses_as_the_stdlib_does() -> None:
    assert Reply(200, {}, b'{"a": NaN}').json()["a"] != 0  # NaN is not equal to itself
    assert Reply(200, {}, '{"ä": 1}'.encode("utf-16")).json() == {"ä": 1}
    assert Reply(200, {}, b'"\\ud800"').json() == "\ud800"  # a lone surrogate
    with pytest.raises(ValueError, match="Expecting value"):
        Reply(200, {}, b"<html>").json()
    with pytest.raises(ValueError, match="Expecting value"):
        Reply(200, {}, b"").json()


def test_integers_beyond_64_bits_are_read_as_floats() -> None:
    """The one difference from the stdlib (orjson's rule, as JavaScript's): no backend sends
    such numbers (their ids are strings), and 64-bit ones stay exact."""
    assert Reply(200, {}, b"[18446744073709551615]").json() == [2**64 - 1]
    assert Reply(200, {}, b"[18446744073709551616]").json() == [float(2**64)]
