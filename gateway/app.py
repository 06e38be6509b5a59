"""The app factory: `/graphql`, `/healthz`, `/readyz`, a request id on every exchange, and
GraphiQL's page and assets (`/graphiql/...`, gateway.graphiql) unless `[server] graphiql` is off.

    app = create_app(settings, crm=ZohoCRM(...), scm=ERPNext(...))

Connectors are built by the caller (the CLI builds them from settings; tests hand in
connectors over in-process emulations). `authenticate` turns a request into a Principal
(it may raise starlette's HTTPException(401)); `extensions` are strawberry SchemaExtensions
(access control, limits) run after error formatting has been attached.

The request pipeline: token → principal (`get_context`, once per request: one context per
operation) → analysis (the access extension's `on_execute`: one frozen
`schema.analysis.RequestAnalysis` with the caller's row filters and every field verdict) →
execution, which only reads it (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from gateway.auth import is_failed_authentication
from gateway.errors import (
    ErrorFormatting,
    UnexpectedErrors,
    format_error,
    http_error,
    unformatted,
)
from gateway.graphiql import ASSET_PREFIX, asset_endpoint, page_response
from gateway.http_negotiation import OperationChoice, negotiate, refusal_for, shape_result
from gateway.observe.endpoint import metrics_route
from gateway.observe.extension import operation_metrics
from gateway.observe.logs import AccessLog, OperationLog
from gateway.observe.metrics import Metrics
from gateway.observe.tracing import Tracing
from gateway.protection.http_guard import RequestRefused, send_refusal
from gateway.protection.ratelimit import RateLimiter, client_address, rate_limited
from gateway.request_id import RequestIdMiddleware, request_id_of
from gateway.settings import Settings
from gateway.subscriptions import (
    SCOPE_KEY,
    Connection,
    ConnectionSlots,
    TextWebSocketAdapter,
    TransportWS,
    accept_ws,
    expires_at,
    open_sse,
    wants_sse,
)
from resolvers.errors import CrossdockError
from resolvers.ports import CrmPort, ErpPort
from schema.build import Extension, build_schema
from schema.context import GatewayContext
from schema.cursor_key import CursorKey
from schema.principal import ANONYMOUS, Principal
from schema.root import Query
from schema.subscriptions import Subscription

logger = logging.getLogger("crossdock.gateway")
Authenticate = Callable[[Request], Awaitable[Principal]]
Shutdown = Callable[[], Awaitable[None]]
Startup = Callable[[], Awaitable[None]]


class GraphQLApp(GraphQL[GatewayContext, None]):
    """Strawberry's ASGI view with Crossdock's per-request context.

    GraphQL over HTTP (gateway.http_negotiation): the response media type and status follow
    the client's Accept; strawberry's request errors and RequestRefused (e.g. 429 from the
    rate limiter, taken after authentication, or from its failed-authentication limiter,
    checked before) are answered GraphQL-shaped. With a `change_bus`, the Subscription root
    is served over graphql-transport-ws and SSE (gateway.subscriptions).
    """

    subscription_protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)  # not the legacy graphql-ws
    graphql_transport_ws_handler_class = TransportWS
    websocket_adapter_class = TextWebSocketAdapter

    def __init__(
        self,
        settings: Settings,
        *,
        crm: CrmPort,
        scm: ErpPort,
        extensions: Sequence[Extension],
        authenticate: Authenticate | None,
        mutation: type[Any] | None,
        order_process: Any,
        query: type[Any] | None = None,
        rate_limiter: RateLimiter | None = None,
        change_bus: Any = None,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        ide = None if settings.server.graphiql == "off" else settings.server.graphiql
        # operation metrics first: their count ends after the errors are formatted
        counted = [] if metrics is None else [operation_metrics(metrics)]
        # the operation's span around all the rest; the execution span after all the rest
        head: list[Extension] = []
        tail: list[Extension] = []
        if tracing is not None:
            first, last = tracing.extensions()
            head, tail = [first], [last]
        if settings.logging.json:  # the operation's subject and name in its log lines
            head.append(OperationLog)
        schema = build_schema(
            extensions=[*head, *counted, ErrorFormatting, OperationChoice, *extensions, *tail],
            mutation=mutation,
            query=Query if query is None else query,
            subscription=None if change_bus is None else Subscription,
            federation=settings.graphql.federation,
        )
        init_wait = timedelta(seconds=settings.subscriptions.connection_init_timeout_s)
        super().__init__(
            schema,
            graphql_ide=ide,
            allow_queries_via_get=True,
            connection_init_wait_timeout=init_wait,
        )
        self.change_bus = change_bus
        self.slots = ConnectionSlots(settings.subscriptions.max_connections_per_subject)
        self.settings = settings
        self.crm = crm
        self.scm = scm
        self.authenticate = authenticate
        self.order_process = order_process
        self.rate_limiter = rate_limiter
        self.metrics = metrics
        self.cursor_key = CursorKey.from_setting(settings.graphql.cursor_key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """strawberry's view, with its request errors and ours answered GraphQL-shaped."""
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=receive)
        try:
            if self.change_bus is not None and wants_sse(request):
                await (await self._sse(request))(scope, receive, send)
                return
            response = await self.run(request)
        except HTTPException as error:
            await send_refusal(refusal_for(error, request.method), Headers(scope=scope), send)
            return
        except RequestRefused as refusal:
            await send_refusal(refusal, Headers(scope=scope), send)
            return
        negotiate(request, response)
        await response(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A graphql-transport-ws connection; what it holds is given back when it ends."""
        if self.change_bus is None:  # no Subscription root: refuse the upgrade
            await send({"type": "websocket.close", "code": 1008, "reason": "no subscriptions"})
            return
        connection = scope[SCOPE_KEY] = Connection(self.slots)
        try:
            await super().__call__(scope, receive, send)
        finally:
            connection.release()

    async def on_ws_connect(self, context: GatewayContext) -> UnsetType:
        """`connection_init`: the token (payload, else the upgrade's header), the slot."""
        if self.authenticate is not None:  # else an open gateway (tests): no token to check
            leeway = self.settings.auth.leeway_s
            await accept_ws(context, self.authenticate, leeway)
        return UnsetType()  # UNSET: a plain connection_ack

    async def _sse(self, request: Request) -> Response:
        """GraphQL over SSE (distinct connections): one subscription per POST."""
        context = await self.get_context(request, Response())
        if self.authenticate is not None:
            context.expires_at = expires_at(context.principal, self.settings.auth.leeway_s)
        return await open_sse(request, context, self.slots, self.schema.subscribe)

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the package (gateway.graphiql); the other IDEs are strawberry's."""
        if self.graphql_ide == "graphiql":
            return page_response()
        return await super().render_graphql_ide(request)

    def encode_json(self, data: object) -> bytes:
        """Responses are encoded with orjson: a W2 page of 200 orders (~440 KB) takes 0.4 ms
        instead of 5.7 ms with `json.dumps` (timeit; same JSON: results hold only JSON types)."""
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # orjson.JSONDecodeError is a json.JSONDecodeError

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors and any(unformatted(error) for error in result.errors):
            request_id = request_id_of(request)
            result.errors = [format_error(error, request_id) for error in result.errors]
        body = process_result(result)
        shape_result(request, result, body)
        # the operation's execution context (a reference cycle) still holds the result: the
        # body has the data now (the context itself was released by schema.ReleaseContext)
        result.data = None
        return body

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        """strawberry's parsing, keeping a top-level `documentId` (in `extensions`)."""
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData) and data.query is None:
            document_id = await _document_id(request)
            if document_id is not None:
                data.extensions = {**(data.extensions or {}), "documentId": document_id}
        return data

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> GatewayContext:
        principal = ANONYMOUS
        if (
            self.authenticate is not None
            and isinstance(request, Request)
            and not self._asks_for_ide(request)
        ):
            principal = await self._authenticate(request, self.authenticate)
        if isinstance(request, Request) and not self._asks_for_ide(request):
            await self._take_token(request, principal)
        return GatewayContext(
            crm=self.crm,
            scm=self.scm,
            principal=principal,
            max_first=self.settings.graphql.max_first,
            default_first=self.settings.graphql.default_first,
            request_id=request_id_of(request),
            order_process=self.order_process,
            cursor_key=self.cursor_key,
            backend_details=bool(principal.roles & self.settings.policy.backend_detail_roles),
            request=request,
            response=response,
            change_bus=self.change_bus,
        )

    async def _authenticate(self, request: Request, authenticate: Authenticate) -> Principal:
        """`authenticate`, unless the address failed too often (429, nothing verified).
        Requests without an Authorization header have nothing to verify: never counted."""
        failed = None if self.rate_limiter is None else self.rate_limiter.failed_auth
        if failed is None or "authorization" not in request.headers:
            return await authenticate(request)
        address = client_address(request.scope.get("client"))
        decision = await failed.admit(address)
        if not decision.allowed:
            self._refused("failed_auth")
            raise rate_limited(decision, "Too many failed authentications from this address")
        try:
            return await authenticate(request)
        except Exception as error:
            if is_failed_authentication(error):
                await failed.record_failure(address)
            raise

    async def _take_token(self, request: Request, principal: Principal) -> None:
        if self.rate_limiter is None:
            return
        client = request.client.host if request.client else "unknown"
        decision = await self.rate_limiter.take(principal, fallback_key=f"client:{client}")
        if not decision.allowed:
            self._refused("requests")
            raise rate_limited(decision, "Too many requests")

    def _refused(self, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.refused(reason)

    def _asks_for_ide(self, request: Request) -> bool:
        """A browser loading the GraphiQL page (no operation in it) needs no token."""
        return (
            self.graphql_ide is not None
            and request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )


async def _document_id(request: Any) -> str | None:
    """A `documentId` request parameter (GraphQL-over-HTTP persisted documents), if any."""
    if request.method == "GET":
        value = request.query_params.get("documentId")
    else:
        try:
            payload = json.loads(await request.get_body())
        except (ValueError, RecursionError):
            return None
        value = payload.get("documentId") if isinstance(payload, dict) else None
    return value if isinstance(value, str) and value else None


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


Probe = Callable[[], Awaitable[None]]


def _readiness(
    crm: CrmPort,
    scm: ErpPort,
    recovering: Callable[[], bool] | None = None,
    probes: Mapping[str, Probe] | None = None,
) -> Callable[[Request], Awaitable[Response]]:
    extra = dict(probes or {})

    async def readyz(request: Request) -> Response:
        if recovering is not None and recovering():
            recovery = {"status": "recovering", "detail": "interrupted order processes"}
            return JSONResponse(recovery, status_code=503)
        systems = ("crm", "scm", *extra)
        results = await asyncio.gather(
            crm.ping(), scm.ping(), *(probe() for probe in extra.values()), return_exceptions=True
        )
        failing: dict[str, str] = {}
        for system, result in zip(systems, results, strict=True):
            if isinstance(result, CrossdockError):
                # Unauthenticated probe: the code only; the message (backend paths) is logged.
                logger.warning("readiness probe of %s failed: %s", system, result.message)
                failing[system] = result.code
            elif isinstance(result, BaseException):
                logger.error("readiness probe of %s failed", system, exc_info=result)
                failing[system] = "unexpected error"
        if failing:
            body = {"status": "unavailable", "failing": sorted(failing), "errors": failing}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ready", "systems": list(systems)})

    return readyz


def _lifespan(
    on_startup: Sequence[Startup], on_shutdown: Sequence[Shutdown]
) -> Callable[[Starlette], Any]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for start in on_startup:
            await start()
        try:
            yield
        finally:
            for close in on_shutdown:
                await close()

    return lifespan


def create_app(
    settings: Settings,
    *,
    crm: CrmPort,
    scm: ErpPort,
    authenticate: Authenticate | None = None,
    extensions: Sequence[Extension] = (),
    mutation: type[Any] | None = None,
    order_process: Any = None,
    query: type[Any] | None = None,
    on_startup: Sequence[Startup] = (),
    on_shutdown: Sequence[Shutdown] = (),
    routes: Sequence[Route] = (),
    rate_limiter: RateLimiter | None = None,
    middleware: Sequence[Middleware] = (),
    recovering: Callable[[], bool] | None = None,
    change_bus: Any = None,
    metrics: Metrics | None = None,
    probes: Mapping[str, Probe] | None = None,
    tracing: Tracing | None = None,
) -> Starlette:
    """The gateway's ASGI app over two ready connectors (`app.state.schema` is its schema).

    `rate_limiter` takes a token per authenticated request (429 RATE_LIMITED when empty);
    `middleware` (outermost first) runs inside the request-id middleware and the catch-all
    for unexpected errors (gateway.errors.UnexpectedErrors) (CORS, HTTP guard);
    while `recovering()` is true, /readyz answers 503 `{"status": "recovering"}`;
    with a `change_bus` (resolvers.sync.ChangeBus) /graphql also serves subscriptions
    (`app.state.change_bus`; gateway.subscriptions); with `metrics` (gateway.observe) the
    operations and backend calls are counted and `/metrics` serves them; `probes` are more
    readiness checks by name (e.g. "state": shared PostgreSQL and Redis), each raising when
    not ready; with `tracing` (gateway.observe.tracing) operations and backend calls make
    spans and the backends get `traceparent`.
    """
    graphql = GraphQLApp(
        settings,
        crm=crm,
        scm=scm,
        extensions=extensions,
        authenticate=authenticate,
        mutation=mutation,
        order_process=order_process,
        query=query,
        rate_limiter=rate_limiter,
        change_bus=change_bus,
        metrics=metrics,
        tracing=tracing,
    )
    if tracing is not None:
        crm.requester.trace = scm.requester.trace = tracing.attempt
        on_shutdown = [*on_shutdown, tracing.shutdown]
    ide_routes = []
    metrics_routes = []
    if metrics is not None:
        metrics_routes.append(metrics_route(metrics, settings.metrics.allow))
        crm.requester.observe = scm.requester.observe = metrics.backend
    if settings.server.graphiql == "graphiql":
        ide_routes.append(Route(ASSET_PREFIX + "{name}", asset_endpoint, methods=["GET"]))
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", _readiness(crm, scm, recovering, probes), methods=["GET"]),
            *ide_routes,
            *metrics_routes,
            *routes,
        ],
        lifespan=_lifespan(on_startup, on_shutdown),
        middleware=[
            Middleware(RequestIdMiddleware),
            *([Middleware(AccessLog)] if settings.logging.json else []),  # JSON access lines
            Middleware(UnexpectedErrors),
            *middleware,
        ],
        exception_handlers={StarletteHTTPException: http_error},
    )
    app.state.schema = graphql.schema
    app.state.change_bus = change_bus
    app.state.metrics = metrics
    app.state.tracing = tracing
    return app
