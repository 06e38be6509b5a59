"""The backend port over aiohttp's client: what `crossdock serve` sends real requests with.

httpx's request path costs ~1.6 ms of CPU per small request (URL parsing and quoting,
Request/Response objects, h11's event validation, httpcore's pool checks, anyio timeouts);
aiohttp's client, with its C HTTP parser, ~0.3 ms for the same request (measured side by side
against one loopback server, docs/performance.md "Backend HTTP client"). This adapter keeps
what the Requester relies on from httpx:

- timeouts: `connect` bounds the wait for a pooled connection plus the connect itself,
  `read` the gap between two reads (the Requester's asyncio timeout bounds the attempt);
- the per-backend connection limit and keep-alive reuse (idle connections closed after 5 s,
  as httpcore does);
- TLS verified as httpx verifies it (`httpx.create_ssl_context`, or the configured CA bundle);
- the bytes on the wire: the URL quoted as httpx quotes it (aiohttp's own quoting would
  rewrite `%2F` to `/` and a space to `+`), JSON and form bodies encoded as httpx does;
- failures raised as httpx's exception types (`ConnectError` when nothing was sent), so the
  Requester's messages and retry rules do not depend on the adapter;
- cookies a backend sets are kept for the next requests, as httpx's client keeps them;
  proxies from the environment (HTTPS_PROXY, NO_PROXY) are honoured, as httpx does.
"""

from __future__ import annotations

import json as stdlib_json
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies

import aiohttp
import httpx
from yarl import URL

from resolvers.transport import Reply, Timeouts

KEEPALIVE_S = 5.0  # httpcore's keepalive_expiry
MAX_HEADER_LINE = 16 * 1024  # h11's limit on a whole header block: no header httpx read is refused


class AiohttpTransport:
    """Requests to one backend over a pool of at most `max_connections` connections.

    The aiohttp session is opened on the first request, inside the running event loop (each
    worker process has its own)."""

    def __init__(self, *, max_connections: int, verify: ssl.SSLContext | bool = True) -> None:
        self.max_connections = max_connections
        self.ssl: ssl.SSLContext | bool = (
            httpx.create_ssl_context(verify=True) if verify is True else verify
        )
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[Timeouts, aiohttp.ClientTimeout] = {}

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
        session = self._session or self._open()
        body, headers = _body(headers, json, data)
        try:
            async with session.request(
                method,
                wire_url(url),
                headers=headers,
                data=body,
                allow_redirects=False,  # httpx's client does not follow redirects either
                timeout=self._timeout(timeouts),
            ) as response:
                content = await response.read()
                return Reply(response.status, response.headers, content)
        except aiohttp.ClientError as exc:
            raise as_httpx_error(exc) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.max_connections, ssl=self.ssl, keepalive_timeout=KEEPALIVE_S
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # unsafe: keep cookies of IP hosts too
            trust_env=bool(getproxies()),  # read once: aiohttp would scan os.environ per request
            max_line_size=MAX_HEADER_LINE,
            max_field_size=MAX_HEADER_LINE,
        )
        # aiohttp resends an idempotent request once, inside, when the connection drops; the
        # Requester decides retries (and counts them against the budget), as over httpx.
        # The attribute is private: aiohttp's own test client turns it off the same way, and
        # tests/resolvers/test_fast_transport.py counts the requests a server receives.
        self._session._retry_connection = False
        return self._session

    def _timeout(self, timeouts: Timeouts) -> aiohttp.ClientTimeout:
        timeout = self._timeouts.get(timeouts)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(
                total=None, connect=timeouts.connect, sock_read=timeouts.read
            )
            self._timeouts[timeouts] = timeout
        return timeout


def _body(
    headers: Mapping[str, str] | None, json: Any, data: Mapping[str, str] | None
) -> tuple[bytes | None, Mapping[str, str] | None]:
    """The request body as httpx encodes `json=` or `data=`, and the headers with its type
    (a Content-Type the caller gave wins, as with httpx)."""
    if json is not None:
        text = stdlib_json.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        body, kind = text.encode("utf-8"), "application/json"
    elif data:
        body, kind = (
            urlencode(data, doseq=True).encode("utf-8"),
            "application/x-www-form-urlencoded",
        )
    else:
        return None, headers
    given = dict(headers) if headers else {}
    for name in given:
        if name.lower() == "content-type":
            break
    else:
        given["Content-Type"] = kind
    return body, given


def as_httpx_error(exc: aiohttp.ClientError) -> httpx.TransportError:
    """The httpx exception httpx raises for the same failure (its class names reach messages)."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused, DNS, TLS: nothing was sent
        return httpx.ConnectError(message)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message)
    if isinstance(exc, aiohttp.ClientOSError):
        return httpx.ReadError(message)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(message)
    if isinstance(exc, aiohttp.ClientResponseError):  # an HTTP reply it could not parse
        return httpx.RemoteProtocolError(message)
    return httpx.TransportError(message)


# httpx's percent-encode sets (httpx/_urlparse.py, after WHATWG): a path escapes space,
# `"`, `#`, `<`, `>`, `?`, `` ` ``, `{`, `}`; a query only the first five; both escape controls
# and non-ASCII (as UTF-8). `%` is never escaped: `%2F` stays `%2F`, a bare `%` stays bare.
_PATH_SAFE = frozenset(chr(i) for i in range(0x21, 0x7F)) - set('"#<>?`{}')
_QUERY_SAFE = frozenset(chr(i) for i in range(0x21, 0x7F)) - set('"#<>')
_PATH_ESCAPES = {i: f"%{i:02X}" for i in range(0x80) if chr(i) not in _PATH_SAFE}
_QUERY_ESCAPES = {i: f"%{i:02X}" for i in range(0x80) if chr(i) not in _QUERY_SAFE}


def wire_url(url: str) -> URL:
    """`url` as httpx would send it (path and query quoted by httpx's rules, dot segments
    removed, no fragment), handed to aiohttp as already encoded so it is sent as it is."""
    parts = urlsplit(url)
    path = _quote(_without_dot_segments(parts.path) or "/", _PATH_ESCAPES)
    target = f"{parts.scheme}://{parts.netloc}{path}"
    if parts.query or url.endswith("?"):
        target = f"{target}?{_quote(parts.query, _QUERY_ESCAPES)}"
    return URL(target, encoded=True)


def _quote(text: str, escapes: dict[int, str]) -> str:
    """`text` with the ASCII characters `escapes` names and all non-ASCII ones percent-encoded
    (as UTF-8), existing `%xx` kept: httpx's quote, in one `translate` pass (a per-character
    join was 3.5 % of W1's CPU on Frappe's JSON filters)."""
    quoted = text.translate(escapes)
    if quoted.isascii():
        return quoted
    return "".join(char if char.isascii() else _utf8_escaped(char) for char in quoted)


def _utf8_escaped(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode())


def _without_dot_segments(path: str) -> str:
    """`path` without `.` and `..` segments (RFC 3986 §5.2.4), as httpx removes them."""
    if "." not in path:
        return path
    segments = path.split("/")
    if "." not in segments and ".." not in segments:
        return path
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept and kept != [""]:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    return "/".join(kept)
