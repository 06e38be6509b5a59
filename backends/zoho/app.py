"""The emulated Zoho CRM: a Starlette app over `ZohoStore`, wrapped in the fault/count middleware.

store = ZohoStore("zoho.sqlite3")
emulator = ZohoEmulator(store, ZohoSettings(token_ttl_s=1))
client = httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app),
                           base_url="http://zoho.test")

Writes notify the watch channels (`/crm/v8/actions/watch`, backends.zoho.watch) in the
background through `emulator.outbox` (backends.notify: its knobs drop, delay, repeat and
reorder callbacks); `notify_client` is the HTTP client the callbacks are POSTed with.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from backends.controls import (
    ADMIN_PREFIX,
    ControlMiddleware,
    Controls,
    ReceivedTraces,
    RequestStats,
)
from backends.notify import Outbox, admin_route
from backends.zoho.auth import TokenIssuer
from backends.zoho.callbacks import Callbacks
from backends.zoho.clock import TenantClock
from backends.zoho.envelopes import (
    ZohoError,
    error_response,
    fault_response,
    invalid_method,
    invalid_url,
)
from backends.zoho.fields import MODULES, Module
from backends.zoho.routes_read import Reader
from backends.zoho.routes_write import Writer
from backends.zoho.store import ZohoStore
from backends.zoho.watch import Channels, WatchApi

API = "/crm/v8"
_ID = re.compile(r"^\d+$")
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class ZohoSettings:
    """Credentials, token lifetime, tenant time zone and test knobs of the emulation."""

    client_id: str = "crossdock-demo"
    client_secret: str = "crossdock-demo-secret"  # noqa: S105 - a demo credential, documented
    refresh_token: str = "crossdock-demo-refresh"  # noqa: S105
    token_ttl_s: float = 3600
    tz: str = "Asia/Kolkata"
    admin_enabled: bool = False
    seed: int = 0
    latency_ms: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0


class ZohoEmulator:
    """Holds the store, the tokens, the fault knobs and the request counts of one emulated CRM."""

    def __init__(
        self,
        store: ZohoStore,
        settings: ZohoSettings = ZohoSettings(),
        *,
        controls: Controls | None = None,
        notify_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        store.clock = TenantClock(settings.tz)  # the tenant's zone is a setting of the emulation
        self.controls = controls or Controls(
            latency_ms=settings.latency_ms,
            error_rate=settings.error_rate,
            throttle_rate=settings.throttle_rate,
            seed=settings.seed,
        )
        self.stats = RequestStats()
        self.traces = ReceivedTraces()  # trace ids received (`traceparent`)
        self.tokens = TokenIssuer(
            settings.client_id, settings.client_secret, settings.refresh_token, settings.token_ttl_s
        )
        self.reader = Reader(store)
        self.writer = Writer(store)
        self.channels = Channels(store.connection, store.clock)
        self.watch = WatchApi(self.channels)
        self.outbox = Outbox()
        self.callbacks = Callbacks(self.channels, self.outbox, client=notify_client)
        self.app: ASGIApp = ControlMiddleware(
            self._starlette(),
            controls=self.controls,
            stats=self.stats,
            classify=classify,
            error_response=fault_response,
            admin_enabled=settings.admin_enabled,
            admin_routes=[admin_route(ADMIN_PREFIX + "/notifications", self.outbox)],
            traces=self.traces,
        )

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far (the next API call gets 401)."""
        self.tokens.expire_all()

    async def aclose(self) -> None:
        """Stop the callback worker and close the client it opened."""
        await self.callbacks.aclose()

    def _starlette(self) -> Starlette:
        watch_methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        routes = [
            Route("/oauth/v2/token", self.tokens.token_endpoint, methods=["POST"]),
            Route(API + "/actions/watch", self._watch, methods=watch_methods),
            Route(API + "/{module}", self._collection, methods=["GET", "POST", "PUT", "DELETE"]),
            Route(API + "/{module}/search", self._search, methods=["GET"]),
            Route(API + "/{module}/upsert", self._upsert, methods=["POST"]),
            Route(API + "/{module}/{record_id}", self._record, methods=["GET", "PUT", "DELETE"]),
        ]
        handlers = {ZohoError: _zoho_error, HTTPException: _http_error, Exception: _internal_error}
        return Starlette(routes=routes, exception_handlers=handlers)

    def _guard(self, request: Request) -> Module:
        self.tokens.check(request.headers.get("Authorization"))
        module = MODULES.get(request.path_params["module"])
        if module is None:
            message = "the module name given seems to be invalid"
            raise ZohoError(400, "INVALID_MODULE", message, {"resource_path_index": 0})
        return module

    async def _watch(self, request: Request) -> Response:
        self.tokens.check(request.headers.get("Authorization"))
        return await self.watch.handle(request)

    def _published(self, response: Response) -> Response:
        """Hands the request's saved records to the callbacks (sent in the background)."""
        self.callbacks.publish(self.writer.take_changes())
        return response

    async def _collection(self, request: Request) -> Response:
        module = self._guard(request)
        if request.method == "GET":
            return self.reader.list_records(request, module)
        try:
            if request.method == "POST":
                return self._published(await self.writer.insert(request, module))
            if request.method == "PUT":
                return self._published(await self.writer.update_many(request, module))
            ids = [i.strip() for i in request.query_params.get("ids", "").split(",") if i.strip()]
            return self._published(self.writer.delete(module, ids))
        finally:
            self.writer.take_changes()  # a failed request leaves nothing for the next one

    async def _search(self, request: Request) -> Response:
        return self.reader.search(request, self._guard(request))

    async def _upsert(self, request: Request) -> Response:
        module = self._guard(request)
        try:
            return self._published(await self.writer.upsert(request, module))
        finally:
            self.writer.take_changes()

    async def _record(self, request: Request) -> Response:
        record_id = request.path_params["record_id"]
        if record_id in ("search", "upsert"):
            raise invalid_method()
        if not _ID.match(record_id):
            raise invalid_url()
        module = self._guard(request)
        if request.method == "GET":
            return self.reader.get(request, module, record_id)
        try:
            if request.method == "PUT":
                return self._published(await self.writer.update_one(request, module, record_id))
            return self._published(self.writer.delete(module, [record_id]))
        finally:
            self.writer.take_changes()


def create_app(store: ZohoStore, settings: ZohoSettings = ZohoSettings()) -> ASGIApp:
    """The emulated CRM as an ASGI app (see `ZohoEmulator` for the test handles)."""
    return ZohoEmulator(store, settings).app


def classify(method: str, path: str) -> str:
    """Route name for request counting: "GET /crm/v8/Accounts/{id}", "POST /oauth/v2/token"."""
    parts = path.rstrip("/").split("/")
    named = ["{id}" if _ID.match(part) else part for part in parts]
    return f"{method} {'/'.join(named) or '/'}"


async def _zoho_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ZohoError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return invalid_method().response()
    return invalid_url().response()


async def _internal_error(request: Request, exc: Exception) -> Response:
    # Never a stack trace to the client; the body is Zoho's 500 envelope.
    return error_response(500, "INTERNAL_ERROR", "Internal Server Error")
