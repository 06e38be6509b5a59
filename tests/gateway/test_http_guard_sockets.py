from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from gateway.protection.http_guard import HttpGuard
from tests.gateway.test_http_guard import echo_app

pytestmark = pytest.mark.sockets
LIMIT = 1_000_000


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    """The guard behind a real uvicorn on a loopback port, so the socket behaviour is real."""
    app = HttpGuard(echo_app, max_body_bytes=LIMIT, max_batch=10)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    await task


async def test_a_ten_megabyte_string_gets_413_over_a_real_socket(base_url: str) -> None:
    body = json.dumps({"query": '{ a(x: "' + "x" * 10_000_000 + '") }'}).encode()
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        after = await http.post("/graphql", json={"query": "{ a }"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert after.status_code == 200


async def test_a_chunked_body_without_length_is_cut_off_over_a_real_socket(base_url: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(1_000):
            yield b"x" * 10_000

    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["measured"] > LIMIT
