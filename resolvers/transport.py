"""The backend HTTP client port: what the Requester sends through, and what comes back.

    reply = await transport.send("GET", url, headers=h, json=None, data=None, timeouts=t)
    reply.status_code, reply.headers.get("Retry-After"), reply.content, reply.json()

A `Reply` is the status, the headers (case-insensitive) and the whole body as bytes; its
`json()` decodes with orjson. Two adapters implement `Transport`:

- `HttpxTransport` over an injected `httpx.AsyncClient`: tests (`httpx.ASGITransport` straight
  into the emulations, `RecordingTransport`) and anything else that brings its own client.
- `resolvers.fast_transport.AiohttpTransport` over aiohttp's client for real sockets: what
  `crossdock serve` uses (see docs/performance.md, "Backend HTTP client").

Both raise httpx's exception types for transport failures (`ConnectError`, `ConnectTimeout`,
`ReadTimeout`, `RemoteProtocolError`, ...), so the Requester maps failures to the same
BackendUnavailable / BackendTimeout messages whichever adapter carried the request; a
connect error still means nothing was sent.
"""

from __future__ import annotations

import json as stdlib_json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx
import orjson

# `[crm] http_client` / `[scm] http_client`: which adapter `crossdock serve` sends through.
HttpClient = Literal["aiohttp", "httpx"]
HTTP_CLIENTS: tuple[HttpClient, ...] = ("aiohttp", "httpx")


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection, for each read (pool waits share `connect`), and for
    a whole attempt: connection, request and the complete response (`attempt`)."""

    connect: float = 3.0
    read: float = 10.0
    attempt: float = 15.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(self.read, connect=self.connect, pool=self.connect)


class Reply:
    """One backend response, read whole: status, headers (case-insensitive), body bytes."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def json(self) -> Any:
        """The body as JSON; a ValueError (json.JSONDecodeError) when it is not JSON.

        orjson decodes backend replies several times faster than the stdlib (`raw_decode` was
        2.6 % of the gateway's CPU through httpx's `Response.json()`). What orjson refuses but
        the stdlib reads (NaN, lone surrogates, UTF-16 bodies, a BOM) goes to the stdlib, so
        such bodies decode as before, and errors stay json.JSONDecodeError. One difference:
        orjson reads an integer beyond 64 bits as a float (our backends send ids as strings;
        tests/resolvers/test_fast_transport.py)."""
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError:
            return stdlib_json.loads(self.content)

    def __repr__(self) -> str:
        return f"<Reply [{self.status_code}] {len(self.content)} bytes>"


class Transport(Protocol):
    """Sends one request and reads the whole response; transport failures raise httpx's
    exception types (`httpx.TransportError` and its subclasses)."""

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None,
        json: Any,
        data: Mapping[str, str] | None,
        timeouts: Timeouts,
    ) -> Reply: ...

    async def aclose(self) -> None: ...


class HttpxTransport:
    """The port over an `httpx.AsyncClient` (its transport, base URL and limits as given)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self._timeouts: dict[Timeouts, httpx.Timeout] = {}

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None,
        json: Any,
        data: Mapping[str, str] | None,
        timeouts: Timeouts,
    ) -> Reply:
        timeout = self._timeouts.get(timeouts)
        if timeout is None:
            timeout = self._timeouts[timeouts] = timeouts.to_httpx()
        response = await self.client.request(
            method, url, headers=headers, json=json, data=data, timeout=timeout
        )
        return Reply(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        await self.client.aclose()


def as_transport(client: httpx.AsyncClient | Transport) -> Transport:
    """`client` as a Transport: an httpx client is wrapped, a Transport is used as it is."""
    if isinstance(client, httpx.AsyncClient):
        return HttpxTransport(client)
    return client
