"""The HTTP/1.1 protocol the gateway is served with: uvicorn's httptools protocol, bounded.

uvicorn's httptools protocol buffers request headers without limit, waits for them and for the
body without end, and accepts every connection. `guarded_protocol(limits)` is its subclass
with the `[server]` limits (`gateway.settings.server.ConnectionLimits`):

    431 REQUEST_HEADER_FIELDS_TOO_LARGE  request line and headers over `max_header_bytes`;
                         counted before the parser sees them, so no more than that is buffered
    408 REQUEST_TIMEOUT  headers not complete `header_timeout_s` after the connection opened
                         (or after a later request's first byte), or the body not complete
                         `body_timeout_s` after its headers
    503 TOO_MANY_CONNECTIONS  a connection over `max_connections`, answered as soon as it opens
    400 BAD_REQUEST      what httptools cannot parse (uvicorn answers it in plain text)
    500 INTERNAL_SERVER_ERROR  the application failed or returned before answering (uvicorn's
                         own reply is plain text); logged with the request id

Each reply is a short GraphQL-shaped JSON body with a `requestId` (also in `x-request-id`),
sent with `connection: close`; then the connection closes. When a response is already under
way, the connection just closes. A request that arrives in one read arms no timer: deadlines
are set only while the connection waits for the rest of a request.

    uvicorn.run(app, http=guarded_protocol(ConnectionLimits(max_header_bytes=32_768)))
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from gateway.settings.server import ConnectionLimits

logger = logging.getLogger("crossdock.server")
# Every header block ends with an empty line: "\r\n\r\n", or "\n\n" where bare LF is allowed.
_HEADER_ENDS = (b"\n\r\n", b"\n\n")
LINGER_S = 2.0


def error_body(code: str, message: str, request_id: str, **extensions: Any) -> bytes:
    """{"errors": [{"message": ..., "extensions": {"code": ..., "requestId": ...}}]}"""
    extensions = {"code": code, **extensions, "requestId": request_id}
    return json.dumps({"errors": [{"message": message, "extensions": extensions}]}).encode()


def refusal_bytes(status: int, code: str, message: str, **extensions: Any) -> bytes:
    """A complete HTTP/1.1 response closing the connection, with a GraphQL-shaped JSON body."""
    request_id = uuid.uuid4().hex
    body = error_body(code, message, request_id, **extensions)
    head = (
        b"content-type: application/json; charset=utf-8\r\n"
        b"content-length: %d\r\nconnection: close\r\nx-request-id: %s\r\n\r\n"
    ) % (len(body), request_id.encode())
    return STATUS_LINE[status] + head + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header size, time and connection limits."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._awaiting_headers = True  # between requests, or inside a request's headers
        self._header_bytes = 0
        self._tail = b""  # the last bytes of the headers so far: a header end may straddle reads
        self._in_body = False
        self._deadline: asyncio.TimerHandle | None = None
        self._lingering = False  # answered (or upgraded): the connection is done with HTTP

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(
                503,
                "TOO_MANY_CONNECTIONS",
                f"The server holds its limit of {self.limits.max_connections} connections; "
                "retry shortly.",
                linger=False,  # a flood of connections is not kept open any longer
                limit=self.limits.max_connections,
            )
            return
        self._arm(self.limits.header_timeout_s, self._headers_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return
        if self._awaiting_headers and not self._headers_fit(data):
            limit = self.limits.max_header_bytes
            self._refuse(
                431,
                "REQUEST_HEADER_FIELDS_TOO_LARGE",
                f"The request line and headers are over the limit of {limit} bytes.",
                limit=limit,
            )
            return
        super().data_received(data)
        if self._lingering or self.transport.is_closing():
            return
        if self._in_body and self._deadline is None and not self.pipeline:
            self._arm(self.limits.body_timeout_s, self._body_too_slow)
        elif self._awaiting_headers and self._header_bytes and self._deadline is None:
            self._arm(self.limits.header_timeout_s, self._headers_too_slow)

    def _headers_fit(self, data: bytes) -> bool:
        """Counts `data` as header bytes; False once they pass the limit without ending."""
        room = self.limits.max_header_bytes - self._header_bytes
        self._header_bytes += len(data)
        if len(data) <= room:
            self._tail = (self._tail + data[-2:])[-2:]
            return True
        window = self._tail + data[: max(room, 0)]
        return any(end in window for end in _HEADER_ENDS)

    def on_headers_complete(self) -> None:
        self._awaiting_headers, self._in_body = False, True
        self._header_bytes, self._tail = 0, b""
        self._disarm()
        super().on_headers_complete()
        if self.cycle is not None:  # its task starts on the loop's next turn, with this in place
            self.cycle.send_500_response = functools.partial(_send_500, self.cycle)  # type: ignore[method-assign]

    def on_message_complete(self) -> None:
        self._awaiting_headers, self._in_body = True, False
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request waited with reading paused; its body's time starts now.
        if self._in_body and self._deadline is None and not self.transport.is_closing():
            self._arm(self.limits.body_timeout_s, self._body_too_slow)

    def handle_websocket_upgrade(self) -> None:
        self._disarm()
        self._lingering = True  # the connection is the WebSocket protocol's from now on
        super().handle_websocket_upgrade()

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "BAD_REQUEST", "The request is not valid HTTP/1.1.")

    def _headers_too_slow(self) -> None:
        seconds = self.limits.header_timeout_s
        self._refuse(
            408,
            "REQUEST_TIMEOUT",
            f"The request headers did not arrive within {seconds:g} s.",
            limit=seconds,
        )

    def _body_too_slow(self) -> None:
        seconds = self.limits.body_timeout_s
        self._refuse(
            408,
            "REQUEST_TIMEOUT",
            f"The request body did not arrive within {seconds:g} s of its headers.",
            limit=seconds,
        )

    def _arm(self, seconds: float, expired: Callable[[], None]) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse(
        self, status: int, code: str, message: str, *, linger: bool = True, **extensions: Any
    ) -> None:
        """Answers `status` unless a response is under way, then closes the connection."""
        self._disarm()
        if self.transport.is_closing() or self._lingering:
            return
        logger.info("%s from %s: %s", status, _peer(self.client), code)
        if not self._may_answer():
            self.transport.close()
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the application's later writes are dropped
            self.cycle.message_event.set()  # and its receive() says so now
        self.transport.write(refusal_bytes(status, code, message, **extensions))
        if linger:
            self._linger()
        else:
            self.transport.close()

    def _linger(self) -> None:
        """Closes after a short drain: closing with unread request bytes would reset the
        connection, and the client could lose the answer before reading it."""
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._arm(LINGER_S, self.transport.close)

    def _may_answer(self) -> bool:
        """No response is under way or already given to the request being received."""
        cycle = self.cycle
        if cycle is None:
            return True
        if self.pipeline or (cycle.response_started and not cycle.response_complete):
            return False  # a response is being written: another would corrupt it
        return not cycle.response_started or self._awaiting_headers


async def _send_500(cycle: RequestResponseCycle) -> None:
    """What uvicorn sends when the application fails before answering: JSON, not plain text."""
    state = cycle.scope.get("state") or {}
    request_id = str(state.get("request_id") or uuid.uuid4().hex)
    logger.error("the application failed without answering (request %s)", request_id)
    body = error_body("INTERNAL_SERVER_ERROR", "Unexpected error.", request_id)
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"x-request-id", request_id.encode()),
    ]
    await cycle.send({"type": "http.response.start", "status": 500, "headers": headers})
    await cycle.send({"type": "http.response.body", "body": body, "more_body": False})


def _peer(client: tuple[str, int] | None) -> str:
    return client[0] if client else "unknown"


def guarded_protocol(limits: ConnectionLimits) -> type[GuardedHttpToolsProtocol]:
    """The protocol class uvicorn takes as `http=`, bound to `limits`."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})
