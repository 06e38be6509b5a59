"""GraphQL subscriptions on /graphql: graphql-transport-ws and GraphQL over SSE.

The same endpoint, three ways in: a WebSocket upgrade offering `graphql-transport-ws` (the
legacy `graphql-ws` subprotocol is not offered), a POST with `Accept: text/event-stream`
(GraphQL over SSE, "distinct connections" mode: one subscription per request), and plain
GraphQL over HTTP for everything else. Both streaming ways:

- check the bearer token once, at connection: WebSocket from `connection_init`'s payload
  (`{"authorization": "Bearer …"}`, also `Authorization` or Apollo's nested
  `connectionParams`), else from the upgrade request's `Authorization` header; SSE from the
  request's header. A bad token closes the socket with 4403 (SSE: HTTP 401);
- end when the token expires: the subscription completes with a TOKEN_EXPIRED error and the
  socket closes with 4403 "token expired";
- count open connections per token subject (`[subscriptions] max_connections_per_subject`):
  one over closes with 4429 (SSE: HTTP 429), saying the limit.

What each subscription sees is decided by the schema and the access extension, as for a query
(schema.subscriptions).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.types import ExecutionResult

from gateway.auth import AuthError
from schema.context import GatewayContext
from schema.principal import Principal

Clock = Callable[[], float]
SCOPE_KEY = "crossdock.subscription_connection"
SSE_HEADERS = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}


class ConnectionRefused(Exception):
    """A streaming connection refused at connection time: a WebSocket close code and reason."""

    def __init__(self, code: int, reason: str, status: int) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # a close frame's reason holds at most 123 bytes
        self.status = status


class ConnectionSlots:
    """Open subscription connections per token subject, at most `limit` each."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def open(self, subject: str) -> int:
        return self._open[subject]

    def take(self, subject: str) -> None:
        if self._open[subject] >= self.limit:
            raise ConnectionRefused(
                4429,
                f"Too many subscription connections for this token subject (limit "
                f"{self.limit}); close one first",
                429,
            )
        self._open[subject] += 1

    def give_back(self, subject: str) -> None:
        self._open[subject] -= 1
        if self._open[subject] <= 0:
            del self._open[subject]


@dataclass
class Connection:
    """One streaming connection's holdings: its slot, its expiry watchdog."""

    slots: ConnectionSlots
    subject: str | None = None
    watchdog: asyncio.Task[None] | None = field(default=None, repr=False)

    def release(self) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
        if self.subject is not None:
            self.slots.give_back(self.subject)
            self.subject = None


def bearer_from(params: object) -> str | None:
    """The `Authorization` value a connection_init payload carries, if any."""
    if not isinstance(params, Mapping):
        return None
    for key in ("authorization", "Authorization"):
        value = params.get(key)
        if isinstance(value, str):
            return value
    nested = params.get("connectionParams")
    return bearer_from(nested) if nested is not params else None


def with_authorization(connection: HTTPConnection, value: str) -> HTTPConnection:
    """The upgrade request as if it had carried `Authorization: value`."""
    headers = [(k, v) for k, v in connection.scope["headers"] if k.lower() != b"authorization"]
    headers.append((b"authorization", value.encode("latin-1", "replace")))
    return HTTPConnection({**connection.scope, "headers": headers})


def expires_at(principal: Principal, leeway_s: float) -> float | None:
    """When the principal's token stops being accepted (epoch seconds), if it says."""
    exp = principal.claims.get("exp")
    return float(exp) + leeway_s if isinstance(exp, int | float) else None


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Messages go out as text frames, as graphql-transport-ws requires (the view encodes
    JSON to bytes with orjson, which strawberry would send as binary frames)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class TransportWS(BaseGraphQLTransportWSHandler[GatewayContext, None]):
    """strawberry's graphql-transport-ws handler, closing with our code and reason when the
    connection is refused at `connection_init` (bad token 4403, too many connections 4429)."""

    async def handle_message(self, message: Any) -> None:
        """A message that is not a JSON object with a string `type` closes the socket with
        4400 (strawberry would fail on it with a TypeError)."""
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            reason = "Invalid message: expected a JSON object with a string `type`"
            await self.websocket.close(code=4400, reason=reason)
            return
        await super().handle_message(cast(Message, message))

    async def handle_connection_init(self, message: Any) -> None:
        try:
            await super().handle_connection_init(message)
        except ConnectionRefused as refused:
            await self.websocket.close(code=refused.code, reason=refused.reason)


async def accept_ws(
    context: GatewayContext,
    authenticate: Callable[[Any], Awaitable[Principal]],
    leeway_s: float,
    clock: Clock = time.time,
) -> None:
    """Authenticate a WebSocket at `connection_init`, take its slot, watch its expiry."""
    websocket = context.request
    assert isinstance(websocket, WebSocket)
    connection: Connection = websocket.scope[SCOPE_KEY]
    value = bearer_from(context.connection_params)
    source = websocket if value is None else with_authorization(websocket, value)
    try:
        principal = await authenticate(source)
    except AuthError as error:
        raise ConnectionRefused(4403, f"Forbidden: {error.description}", 401) from None
    if not principal.authenticated or principal.subject is None:
        raise ConnectionRefused(4403, "Forbidden: a bearer token is required", 401)
    connection.slots.take(principal.subject)
    connection.subject = principal.subject
    context.principal = principal
    context.expires_at = expires_at(principal, leeway_s)
    if context.expires_at is not None:
        connection.watchdog = asyncio.create_task(_close_at(websocket, context.expires_at, clock))


async def _close_at(websocket: WebSocket, deadline: float, clock: Clock) -> None:
    """Close the socket with 4403 once the token has expired (a short grace lets the
    subscriptions' own TOKEN_EXPIRED errors go out first)."""
    await asyncio.sleep(max(0.0, deadline - clock()) + 0.2)
    with contextlib.suppress(Exception):  # the socket may already be closing
        await websocket.close(code=4403, reason="Forbidden: token expired")


@dataclass(frozen=True)
class SseRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


def _bad_request(message: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
    return JSONResponse(body, status_code=400)


def parse_sse_body(raw: bytes) -> SseRequest | str:
    """The GraphQL request in an SSE POST, or what is wrong with it."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return "The request body must be a JSON object with a `query` string."
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return "The request body must be a JSON object with a `query` string."
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return "`variables` must be a JSON object."
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        return "`operationName` must be a string."
    return SseRequest(payload["query"], variables, name)


def wants_sse(request: Request) -> bool:
    return request.method == "POST" and "text/event-stream" in request.headers.get("accept", "")


def sse_event(kind: str, data: bytes) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


def _body(result: ExecutionResult) -> bytes:
    """One result as single-line JSON (errors were formatted by gateway.errors)."""
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [e.formatted for e in result.errors]
    return orjson.dumps(body)


async def sse_stream(
    results: AsyncIterator[Any], context: GatewayContext, connection: Connection
) -> AsyncIterator[bytes]:
    """`event: next` per result, then `event: complete`; the slot is given back at the end
    (also when the client goes away and the response is cancelled)."""
    try:
        async for result in results:
            if isinstance(result, ExecutionResult):
                yield sse_event("next", _body(result))
        yield sse_event("complete", b"")
    finally:
        connection.release()
        aclose = getattr(results, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


def refusal_response(refused: ConnectionRefused) -> JSONResponse:
    code = "TOO_MANY_CONNECTIONS" if refused.status == 429 else "UNAUTHENTICATED"
    body = {"errors": [{"message": refused.reason + ".", "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=refused.status)


async def open_sse(
    request: Request,
    context: GatewayContext,
    slots: ConnectionSlots,
    subscribe: Callable[..., Any],
) -> Response:
    """Run one subscription over SSE for an authenticated context."""
    parsed = parse_sse_body(await request.body())
    if isinstance(parsed, str):
        return _bad_request(parsed)
    subject = context.principal.subject or "-"  # "-": a gateway without authentication
    connection = Connection(slots)
    try:
        slots.take(subject)
    except ConnectionRefused as refused:
        return refusal_response(refused)
    connection.subject = subject
    try:
        results = await subscribe(
            parsed.query,
            variable_values=parsed.variables,
            context_value=context,
            operation_name=parsed.operation_name,
        )
    except Exception:
        connection.release()
        raise
    return SseResponse(sse_stream(results, context, connection), connection)


class SseResponse(StreamingResponse):
    """The event stream; its connection slot is given back however the response ends (also
    when the client leaves before the first event, when the stream never started)."""

    def __init__(self, content: AsyncIterator[bytes], connection: Connection) -> None:
        super().__init__(content, media_type="text/event-stream", headers=SSE_HEADERS)
        self.connection = connection

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.connection.release()
