"""The emulated Fxiaoke tenant: a Starlette app over `FxStore`, in the fault/count middleware.

    store = FxStore("fxiaoke.sqlite3")
    emulator = FxiaokeEmulator(store, FxiaokeSettings())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app),
                               base_url="http://fxiaoke.test")

Every answer is HTTP 200 (an unknown path too: `10006`), except what the fault knobs inject
as "down" (503, the load balancer's). A call is admitted by the tenant's limits after its
authentication; `clock` (epoch seconds) drives token lifetimes, the limits and the times of
new records, so tests move it instead of sleeping.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from backends.controls import ControlMiddleware, Controls, RequestStats
from backends.fxiaoke import envelopes as fx
from backends.fxiaoke.auth import Clock, Credentials, TokenIssuer
from backends.fxiaoke.data import DataVerbs
from backends.fxiaoke.envelopes import FxError, bad_param, error_response, fault_response, ok
from backends.fxiaoke.limits import Limits, LimitSettings
from backends.fxiaoke.store import FxStore

DATA = "/cgi/crm/v2/data/"
TOKEN_PATHS = ("/cgi/corpAccessToken/get/V2", "/oauth2.0/token")
MAX_BODY = 1 << 20


@dataclass(frozen=True)
class FxiaokeSettings:
    """Credentials, token lifetime, limits and test knobs of the emulated tenant."""

    app_id: str = "FSAID_crossdock_demo"
    app_secret: str = "crossdock-demo-secret"  # noqa: S105 - a demo credential, documented
    permanent_code: str = "crossdock-demo-permanent"
    corp_id: str = "FSCID_CROSSDOCK"
    ea: str = "crossdock"
    open_user_id: str = "FSUID_CROSSDOCK_ADMIN"
    employee_id: str = "1000"
    token_ttl_s: float = 7200
    token_reuse_s: float = 6600
    limits: LimitSettings = field(default_factory=LimitSettings)
    admin_enabled: bool = False
    seed: int = 0
    latency_ms: float = 0.0
    error_rate: float = 0.0
    throttle_rate: float = 0.0

    def credentials(self) -> Credentials:
        return Credentials(
            app_id=self.app_id,
            app_secret=self.app_secret,
            permanent_code=self.permanent_code,
            corp_id=self.corp_id,
            ea=self.ea,
            open_user_id=self.open_user_id,
            employee_id=self.employee_id,
        )


class FxiaokeEmulator:
    """Holds the store, tokens, limits, fault knobs and request counts of one emulated tenant."""

    def __init__(
        self,
        store: FxStore,
        settings: FxiaokeSettings = FxiaokeSettings(),
        *,
        clock: Clock = time.time,
        controls: Controls | None = None,
    ) -> None:
        self.store, self.settings, self.clock = store, settings, clock
        self.controls = controls or Controls(
            latency_ms=settings.latency_ms,
            error_rate=settings.error_rate,
            throttle_rate=settings.throttle_rate,
            seed=settings.seed,
        )
        self.stats = RequestStats()
        self.tokens = TokenIssuer(
            settings.credentials(), self._now, settings.token_ttl_s, settings.token_reuse_s
        )
        self.limits = Limits(settings.limits, self._now)
        self.verbs = DataVerbs(store, lambda: int(self._now() * 1000))
        self._routes: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
            DATA + "query": self.verbs.query,
            DATA + "get": self.verbs.get,
            DATA + "create": self.verbs.create,
            DATA + "update": self.verbs.update,
            DATA + "invalid": self.verbs.invalidate,
            "/cgi/crm/v2/object/describe": self.verbs.describe,
        }
        self.app: ASGIApp = ControlMiddleware(
            self._asgi,
            controls=self.controls,
            stats=self.stats,
            classify=classify,
            error_response=fault_response,
            admin_enabled=settings.admin_enabled,
        )

    def _now(self) -> float:
        return self.clock()

    def expire_tokens(self) -> None:
        """Forget every token issued so far (the next API call gets 20016 / 20005)."""
        self.tokens.expire_all()

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._answer(request)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        path = request.url.path
        try:
            if request.method != "POST" or (path not in self._routes and path not in TOKEN_PATHS):
                raise FxError(fx.UNKNOWN_PATH, f"path {path[:80]} not found (every call is a POST)")
            body = await _body(request)
            self.limits.admit(path)
            if path in TOKEN_PATHS:
                issue = self.tokens.legacy if path == TOKEN_PATHS[0] else self.tokens.oauth
                return ok(**issue(body))
            self._authenticate(request, body)
            return ok(**self._routes[path](body))
        except FxError as exc:
            return exc.response()
        except Exception:  # never a stack trace to the client, and still HTTP 200
            return error_response(fx.SYSTEM_BUSY, "系统繁忙 system busy")

    def _authenticate(self, request: Request, body: Mapping[str, Any]) -> None:
        if "authorization" in request.headers:
            if "corpAccessToken" in body:  # the two generations must not be mixed (◐ [X-SK])
                raise bad_param("send either the Bearer headers or corpAccessToken, not both")
            self.tokens.check_headers(request.headers)
        else:
            self.tokens.check_body(body)


async def _body(request: Request) -> Mapping[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise bad_param(f"the body exceeds {MAX_BODY} bytes")
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):
        raise bad_param("the body is not JSON") from None
    if not isinstance(body, dict):
        raise bad_param("the body must be a JSON object")
    return body


def classify(method: str, path: str) -> str:
    """Route name for request counting: the path itself, since Fxiaoke paths carry no ids."""
    return f"{method} {path}"
