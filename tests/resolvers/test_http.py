"""The shared request helper: retries, backoff, Retry-After and error mapping on real failures."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backends.erpnext.app import ErpEmulator
from backends.serve import serving
from backends.zoho.app import ZohoEmulator
from resolvers.erpnext import ERPNext
from resolvers.errors import BackendTimeout, BackendUnavailable
from resolvers.http import Requester, RetryPolicy, Timeouts
from tests.support.connectors import ZOHO_URL, SleepSpy, erp_options


def requester(client: httpx.AsyncClient, spy: SleepSpy, **policy: float) -> Requester:
    return Requester(
        client,
        system="scm",
        label="ERPNext",
        timeouts=Timeouts(connect=0.5, read=0.2),
        retry=RetryPolicy(**policy),  # type: ignore[arg-type]
        sleep=spy,
    )


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A real listening socket that accepts and never answers: a read timeout."""

    writers: list[asyncio.StreamWriter] = []

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        while await reader.read(65536):  # read until the client gives up and closes
            pass
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    for writer in writers:
        writer.close()
    await server.wait_closed()
    await asyncio.sleep(0.01)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.sockets
async def test_a_closed_port_is_unavailable_after_the_retries(sleep: SleepSpy) -> None:
    port = closed_port()
    async with httpx.AsyncClient() as client:
        with pytest.raises(BackendUnavailable) as caught:
            await requester(client, sleep).send("GET", f"http://127.0.0.1:{port}/api/resource/Bin")

    assert "could not be reached for GET /api/resource/Bin" in caught.value.message
    assert caught.value.message.endswith("retried 2 times")
    assert len(sleep.delays) == 2


@pytest.mark.sockets
async def test_a_silent_backend_is_a_timeout_and_a_write_is_not_retried(
    silent_port: int, sleep: SleepSpy
) -> None:
    url = f"http://127.0.0.1:{silent_port}/api/resource/Sales%20Order"
    async with httpx.AsyncClient() as client:
        with pytest.raises(BackendTimeout, match="did not answer GET /api/resource/Sales"):
            await requester(client, sleep, attempts=2).send("GET", url)
        assert len(sleep.delays) == 1
        with pytest.raises(BackendTimeout, match="retried 0 times"):
            await requester(client, sleep, attempts=2).send("POST", url, json={})
    assert len(sleep.delays) == 1  # the POST may have been processed: never resent


async def test_a_5xx_on_a_write_is_returned_without_a_retry(
    zoho_client: httpx.AsyncClient, zoho_emulator: ZohoEmulator, sleep: SleepSpy
) -> None:
    zoho_emulator.controls.update({"error_rate": 1.0})

    response = await requester(zoho_client, sleep).send("POST", f"{ZOHO_URL}/crm/v8/Accounts")

    assert response.status_code == 500
    assert zoho_emulator.stats.total == 1
    assert sleep.delays == []


async def test_a_429_on_a_write_is_retried_because_nothing_was_processed(
    zoho_client: httpx.AsyncClient, zoho_emulator: ZohoEmulator, sleep: SleepSpy
) -> None:
    zoho_emulator.controls.update({"throttle_rate": 1.0, "retry_after_s": 2})

    with pytest.raises(BackendUnavailable, match="returned 429 for POST /crm/v8/Accounts"):
        await requester(zoho_client, sleep).send("POST", f"{ZOHO_URL}/crm/v8/Accounts")

    assert sleep.delays == [2.0, 2.0]
    assert zoho_emulator.stats.total == 3


@pytest.mark.parametrize("header", ["nan", "inf", "soon"])  # float() reads the first two
async def test_a_retry_after_that_is_not_a_number_of_seconds_falls_back_to_backoff(
    sleep: SleepSpy, header: str
) -> None:
    async def throttle(request: Request) -> Response:
        return Response(status_code=429, headers={"Retry-After": header})

    app = Starlette(routes=[Route("/api/resource/Bin", throttle)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        with pytest.raises(BackendUnavailable, match="returned 429"):
            await requester(client, sleep, backoff_s=0.1, backoff_max_s=0.3).send(
                "GET", "http://erp.test/api/resource/Bin"
            )

    assert len(sleep.delays) == 2
    assert all(0.05 <= d <= 0.2 for d in sleep.delays)


def test_backoff_grows_exponentially_with_jitter_and_stays_under_the_cap() -> None:
    policy = RetryPolicy(backoff_s=0.1, backoff_max_s=0.3)

    delays = [policy.delay(retry) for retry in (1, 2, 3, 4)]

    assert 0.05 <= delays[0] <= 0.1
    assert 0.1 <= delays[1] <= 0.2
    assert all(0.15 <= d <= 0.3 for d in delays[2:])


def test_timeouts_become_an_httpx_timeout() -> None:
    timeout = Timeouts(connect=1.5, read=4.0).to_httpx()

    assert (timeout.connect, timeout.read) == (1.5, 4.0)


@pytest.fixture
async def erp_over_socket(erp_emulator: ErpEmulator) -> AsyncIterator[str]:
    """The ERPNext emulation behind a real uvicorn socket, where timeouts are real."""
    async with serving(erp_emulator.app, "127.0.0.1", 0, timeout_graceful_shutdown=1) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.mark.sockets
async def test_a_slow_erpnext_is_a_timeout_naming_the_call(
    erp_over_socket: str, erp_emulator: ErpEmulator, sleep: SleepSpy
) -> None:
    erp_emulator.controls.update({"latency_ms": 400})
    options = erp_options(
        base_url=erp_over_socket,
        timeouts=Timeouts(connect=1.0, read=0.05),
        retry=RetryPolicy(attempts=2),
    )
    async with httpx.AsyncClient() as client:
        scm = ERPNext(client, options, sleep=sleep)
        with pytest.raises(BackendTimeout) as caught:
            await scm.list_bins(["SKU-1"])

    assert caught.value.message == (
        "ERPNext did not answer GET /api/resource/Bin within 0.05s; retried 1 time"
    )
    assert caught.value.code == "BACKEND_TIMEOUT"


# Each value is here for a character that could end or change it on the way.
QUERY_VALUES = {
    "delimiters": "a&b=c#d+e;f",  # the query's own separators, and `+` (a space to servers)
    "percent": "100%25 off %41",  # an escape-looking text stays text
    "json": '[["Sales Order","name","in",["SO-1","Ä,€"]]]',  # quotes, brackets, non-ASCII
    "controls": "tab\there\nnewline\x7f",  # httpx refuses these raw
    "kept": "a/b?c:d@e!$'()*,[]",  # legal in a query as they are
    "empty": "",
    "key with space": "v",
}


async def test_query_values_reach_the_server_exactly_as_given() -> None:
    received: dict[str, str] = {}

    async def echo(request: Request) -> Response:
        received.update(request.query_params)
        return Response(status_code=204)

    app = Starlette(routes=[Route("/api/resource/{doctype}", echo)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://erp"
    ) as client:
        send = requester(client, SleepSpy())
        await send.send("GET", "http://erp/api/resource/Sales%20Order", params=QUERY_VALUES)
    assert received == QUERY_VALUES
