"""Before authentication: header size, header and body time, connection count, on real sockets.

The production gateway (`gateway.wiring.assemble`) served by uvicorn on a loopback port with
the options `crossdock serve` and the demo use (`gateway.server.protocol_options`), and raw
clients on asyncio streams. Limits are small (1 s), client deadlines generous (10 s); the
tests assert what the client sees (the status, the closed socket), never how long it took.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from backends.serve import serving
from gateway.http_protocol import GuardedHttpToolsProtocol
from gateway.server import protocol_options, uvicorn_options
from gateway.settings.server import ConnectionLimits, ServerSettings
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.support.stack import gateway_settings

pytestmark = pytest.mark.sockets
DEADLINE_S = 10.0  # a client's patience: ten times every limit the tests set
HEALTHZ = b"GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\n"
HEALTHZ_CLOSE = b"GET /healthz HTTP/1.1\r\nhost: gateway\r\nconnection: close\r\n\r\n"
PARTIAL_HEADERS = b"GET /healthz HTTP/1.1\r\nhost: gateway\r\nx-slow: "
STALLED_BODY = (
    b"POST /graphql HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n"
    b'content-length: 100\r\n\r\n{"query": '
)
LIMITS = ConnectionLimits(
    max_header_bytes=32_768, header_timeout_s=1.0, body_timeout_s=1.0, max_connections=1000
)
Serve = Callable[..., contextlib.AbstractAsyncContextManager[int]]


@pytest.fixture
def serve(tmp_path: Path, crm: ZohoCRM, scm: ERPNext) -> Serve:
    """`async with serve(limits) as port`: the gateway with these connection limits."""

    @asynccontextmanager
    async def run(limits: ConnectionLimits = LIMITS, **uvicorn: object) -> AsyncIterator[int]:
        settings = gateway_settings(tmp_path)
        server = dataclasses.replace(settings.server, connections=limits)
        app = assemble(dataclasses.replace(settings, server=server), crm=crm, scm=scm)
        options = {**protocol_options(server), **uvicorn}
        async with serving(app, "127.0.0.1", 0, lifespan="on", **options) as port:
            yield port

    return run


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes; b"" if it reset the connection."""
    chunks = []
    try:
        while chunk := await asyncio.wait_for(reader.read(65_536), DEADLINE_S):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


async def exchange(port: int, request: bytes) -> bytes:
    """Sends `request` on a new connection and reads until the server closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    try:
        return await read_until_closed(reader)
    finally:
        writer.close()


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0


def error_of(response: bytes) -> dict[str, Any]:
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head
    assert b"connection: close" in head
    error: dict[str, Any] = json.loads(body)["errors"][0]
    assert b"x-request-id: " + error["extensions"]["requestId"].encode() in head
    return error


async def push_header(port: int, total: int) -> tuple[bytes, int]:
    """Sends one header of `total` bytes that never ends, reading what the server answers
    while sending; stops when it answers or closes. Returns the answer and the bytes sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = asyncio.ensure_future(read_until_closed(reader))
    chunk, sent = b"x" * 65_536, 0
    writer.write(b"GET /healthz HTTP/1.1\r\nhost: gateway\r\nx-big: ")
    try:
        while sent < total and not answer.done():
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), DEADLINE_S)
            sent += len(chunk)
    except (ConnectionError, TimeoutError):
        pass  # the server closed: what it answered is in `answer`
    try:
        return await asyncio.wait_for(answer, DEADLINE_S), sent
    finally:
        writer.close()


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


async def test_an_eight_megabyte_header_gets_431_and_the_server_still_answers(
    serve: Serve,
) -> None:
    async with serve() as port:
        answer, _ = await push_header(port, 8_000_000)
        after = await exchange(port, HEALTHZ_CLOSE)

    assert status_of(answer) == 431
    error = error_of(answer)
    assert error["extensions"]["code"] == "REQUEST_HEADER_FIELDS_TOO_LARGE"
    assert error["extensions"]["limit"] == 32_768
    assert status_of(after) == 200


async def test_headers_just_under_the_limit_pass_and_just_over_get_431(serve: Serve) -> None:
    def request(header_bytes: int) -> bytes:
        start = b"GET /healthz HTTP/1.1\r\nhost: gateway\r\nconnection: close\r\nx-pad: "
        return start + b"p" * (header_bytes - len(start) - 4) + b"\r\n\r\n"

    limits = dataclasses.replace(LIMITS, max_header_bytes=4096)
    async with serve(limits) as port:
        at_limit = await exchange(port, request(4096))
        over = await exchange(port, request(4097))

    assert status_of(at_limit) == 200
    assert status_of(over) == 431


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads RSS from /proc")
async def test_ten_unfinished_twenty_megabyte_headers_do_not_grow_memory(serve: Serve) -> None:
    async with serve() as port:
        before = rss_bytes()
        peak = before
        attack = asyncio.gather(*(push_header(port, 20_000_000) for _ in range(10)))
        while not attack.done():
            peak = max(peak, rss_bytes())
            await asyncio.sleep(0.01)
        answers = [answer for answer, _ in attack.result()]

    assert [status_of(answer) for answer in answers] == [431] * 10
    assert peak - before < 64_000_000  # unbounded buffering took 231 MB here


async def test_400_connections_with_partial_headers_or_a_stalled_body_get_408(
    serve: Serve,
) -> None:
    async with serve() as port:
        requests = [PARTIAL_HEADERS] * 200 + [STALLED_BODY] * 200
        answers = await asyncio.gather(*(exchange(port, request) for request in requests))
        after = await exchange(port, HEALTHZ_CLOSE)

    assert [status_of(answer) for answer in answers] == [408] * 400
    headers, body = error_of(answers[0]), error_of(answers[-1])
    assert headers["extensions"]["code"] == "REQUEST_TIMEOUT"
    assert "headers did not arrive within 1 s" in str(headers["message"])
    assert "body did not arrive within 1 s" in str(body["message"])
    assert status_of(after) == 200


async def test_dripping_headers_byte_by_byte_does_not_extend_their_time(serve: Serve) -> None:
    async with serve() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answer = asyncio.ensure_future(read_until_closed(reader))
        writer.write(PARTIAL_HEADERS)
        for _ in range(int(DEADLINE_S / 0.1)):  # a byte every 0.1 s: ten times the limit
            if answer.done():
                break
            with contextlib.suppress(ConnectionError):
                writer.write(b"a")
            await asyncio.sleep(0.1)
        response = await asyncio.wait_for(answer, DEADLINE_S)
        writer.close()

    assert status_of(response) == 408


async def test_a_keep_alive_connection_gets_a_fresh_header_time_for_each_request(
    serve: Serve,
) -> None:
    async with serve(timeout_keep_alive=60) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        first = await _one_response(reader, writer, HEALTHZ)
        writer.write(PARTIAL_HEADERS)  # the next request never finishes its headers
        second = await read_until_closed(reader)
        writer.close()

    assert status_of(first) == 200
    assert status_of(second) == 408


async def _one_response(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> bytes:
    writer.write(request)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE_S)
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    return head + await asyncio.wait_for(reader.readexactly(length), DEADLINE_S)


async def test_a_connection_over_the_limit_gets_503_and_one_freed_is_reused(
    serve: Serve,
) -> None:
    limits = dataclasses.replace(LIMITS, header_timeout_s=60.0, max_connections=5)
    async with serve(limits, timeout_keep_alive=60) as port:
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
        answered = [await _one_response(r, w, HEALTHZ) for r, w in held]  # all five registered
        refused = await exchange(port, b"")
        held[0][1].close()
        freed = 0
        for _ in range(100):  # the server notices the closed connection soon; bounded retries
            freed = status_of(await exchange(port, HEALTHZ_CLOSE))
            if freed == 200:  # until then: 503, or a reset if the refusal crossed the request
                break
            await asyncio.sleep(0.05)
        for _, writer in held[1:]:
            writer.close()

    assert [status_of(answer) for answer in answered] == [200] * 5
    assert status_of(refused) == 503
    assert error_of(refused)["extensions"]["code"] == "TOO_MANY_CONNECTIONS"
    assert freed == 200


async def test_what_the_parser_refuses_is_answered_400_in_json(serve: Serve) -> None:
    async with serve() as port:
        answer = await exchange(port, b"NOT HTTP AT ALL\r\n\r\n")

    assert status_of(answer) == 400
    assert error_of(answer)["extensions"]["code"] == "BAD_REQUEST"


def test_the_limits_are_settings_with_safe_defaults() -> None:
    from gateway.settings.server import parse_server

    defaults = parse_server({}, {}).connections
    assert 16_384 <= defaults.max_header_bytes <= 65_536
    assert defaults == ConnectionLimits()
    shaped = parse_server(
        {
            "max_header_bytes": 16_384,
            "header_timeout_s": 5,
            "body_timeout_s": 20.5,
            "max_connections": 200,
        },
        {},
    ).connections
    assert shaped == ConnectionLimits(16_384, 5.0, 20.5, 200)
    assert isinstance(ServerSettings().connections, ConnectionLimits)


async def failing_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An application with a bug below every handler: it raises before answering."""
    if scope["path"] == "/raises":
        raise RuntimeError("secret internals")
    # "/silent" returns without answering at all


@pytest.mark.parametrize("path", ["/raises", "/silent"])
async def test_an_application_that_fails_before_answering_gets_json_500_not_plain_text(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    options = protocol_options(ServerSettings())
    async with serving(failing_app, "127.0.0.1", 0, **options) as port:
        answer = await exchange(port, HEALTHZ_CLOSE.replace(b"/healthz", path.encode()))

    assert status_of(answer) == 500
    error = error_of(answer)
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in answer.decode()
    assert f"(request {error['extensions']['requestId']})" in caplog.text


def test_crossdock_serve_runs_the_guarded_protocol_with_the_configured_limits() -> None:
    limits = ConnectionLimits(16_384, 5.0, 20.0, 200)
    settings = gateway_settings()
    settings = dataclasses.replace(
        settings, server=dataclasses.replace(settings.server, connections=limits)
    )
    protocol = uvicorn_options(settings, host=None, port=None)["http"]
    assert issubclass(protocol, GuardedHttpToolsProtocol)
    assert protocol.limits == limits
