"""Helpers for the tests under tests/fxiaoke/ (fixtures: its conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from backends.erpnext.store import ErpStore
from backends.fxiaoke.app import FxiaokeSettings
from backends.fxiaoke.limits import LimitSettings
from backends.fxiaoke.store import FxStore
from gateway.settings import parse_settings
from resolvers.fxiaoke import FxiaokeOptions
from resolvers.http import RetryPolicy
from tests.saga.faults import Fault, FaultInjector, Mode

FXIAOKE_URL = "http://fxiaoke.test"
# The suites run over both CRMs make many calls quickly; tests/fxiaoke tests the limits.
FXIAOKE_UNLIMITED = FxiaokeSettings(limits=LimitSettings(interface_calls=10**9, daily_quota=10**9))


@dataclass(frozen=True)
class FxSeededStores:
    fx: FxStore
    erp: ErpStore


def fxiaoke_gateway_options() -> FxiaokeOptions:
    """The connector's options as the gateway parses `[crm] kind = "fxiaoke"` in the tests
    (one retry, as tests.support.stack's Zoho section; limits that never bind)."""
    s = FxiaokeSettings()
    crm = {
        "kind": "fxiaoke",
        "base_url": FXIAOKE_URL,
        "app_id": s.app_id,
        "app_secret": s.app_secret,
        "permanent_code": s.permanent_code,
        "open_user_id": s.open_user_id,
        "retries": 1,
        "calls_per_interface": 10**9,
        "daily_quota": 10**9,
    }
    scm = {"base_url": "http://erp.test", "api_key": "k", "api_secret": "s"}
    document = {"crm": crm, "scm": scm, "auth": {"hs256_secret": "x" * 48}}
    options = parse_settings(document).crm
    assert isinstance(options, FxiaokeOptions)
    return options


START = 1_790_000_000.0  # the emulations' clock starts here (seconds); tests move it


class FakeClock:
    """Epoch seconds that move only when a test says so (token lifetimes, limits)."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def app_credentials(settings: FxiaokeSettings | None = None) -> dict[str, str]:
    s = settings or FxiaokeSettings()
    return {"appId": s.app_id, "appSecret": s.app_secret, "permanentCode": s.permanent_code}


async def legacy_auth(client: httpx.AsyncClient) -> dict[str, str]:
    """The body fields of a legacy call: corpAccessToken, corpId, currentOpenUserId."""
    reply = (await client.post("/cgi/corpAccessToken/get/V2", json=app_credentials())).json()
    assert reply["errorCode"] == 0, reply
    user = FxiaokeSettings().open_user_id
    return {
        "corpAccessToken": reply["corpAccessToken"],
        "corpId": reply["corpId"],
        "currentOpenUserId": user,
    }


class FxCaller:
    """Calls `/cgi/…` verbs with legacy auth in the body; returns the decoded envelope."""

    def __init__(self, client: httpx.AsyncClient, auth: dict[str, str]) -> None:
        self.client, self.auth = client, auth

    async def call(self, path: str, data: Any = None, **top: Any) -> dict[str, Any]:
        body = {**self.auth, **top} if data is None else {**self.auth, "data": data, **top}
        response = await self.client.post(path, json=body)
        assert response.status_code == 200, response.text  # Fxiaoke answers 200, always
        result: dict[str, Any] = response.json()
        return result

    async def query(self, api_name: str, **info: Any) -> dict[str, Any]:
        info.setdefault("limit", 100)
        info.setdefault("offset", 0)
        data = {"dataObjectApiName": api_name, "search_query_info": info}
        return await self.call("/cgi/crm/v2/data/query", data)


def in_filter(field: str, values: list[str], operator: str = "IN") -> dict[str, Any]:
    return {"field_name": field, "field_values": values, "operator": operator}


class ClockedSleep:
    """An injected sleep that moves a FakeClock instead of waiting, and records each delay."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(seconds)


def fxiaoke_options(**overrides: Any) -> FxiaokeOptions:
    s = FxiaokeSettings()
    values: dict[str, Any] = {
        "base_url": FXIAOKE_URL,
        "app_id": s.app_id,
        "app_secret": s.app_secret,
        "permanent_code": s.permanent_code,
        "open_user_id": s.open_user_id,
        "retry": RetryPolicy(attempts=3, backoff_s=0.01),
        **overrides,
    }
    return FxiaokeOptions(**values)


# The saga suites name CRM routes as Zoho spells them; over Fxiaoke the same step is another
# verb: (method, Zoho path pattern) -> (method, Fxiaoke path pattern).
ZOHO_TO_FXIAOKE: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", r"^/crm/v8/Accounts"): ("POST", r"^/cgi/crm/v2/data/query$"),
    ("POST", r"^/crm/v8/Sales_Orders$"): ("POST", r"^/cgi/crm/v2/data/create$"),
    ("PUT", r"^/crm/v8/Sales_Orders/\d+$"): ("POST", r"^/cgi/crm/v2/data/update$"),
}


class FxiaokeFaults(FaultInjector):
    """The fault injector in front of the Fxiaoke emulation: a fault named by its Zoho route
    fails the Fxiaoke verb doing the same step, and answers as Fxiaoke would (HTTP 200:
    `error` is errorCode 50009, `reject` is a validation refusal)."""

    def add(self, method: str, path: str, mode: Mode = "error", **kw: Any) -> Fault:
        translated = ZOHO_TO_FXIAOKE.get((method, path))
        if translated is None and not path.startswith("^/cgi/"):
            raise ValueError(f"no Fxiaoke route for the Zoho route {method} {path}")
        method, path = translated or (method, path)
        return super().add(method, path, mode, **kw)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fault = None
        if scope["type"] == "http":
            fault = next((f for f in self.faults if f.fires(scope["method"], scope["path"])), None)
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.mode in ("error", "reject"):
            code = 50009 if fault.mode == "error" else 40001
            body = {"errorCode": code, "errorMessage": f"injected {fault.mode}", "traceId": "E-O.x"}
            await JSONResponse(body)(scope, receive, send)
        elif fault.mode == "timeout":
            raise httpx.ReadTimeout("injected timeout")
        else:
            await self.app(scope, receive, _discard)
            raise httpx.ReadTimeout("injected timeout after the request was applied")


async def _discard(message: Message) -> None:
    return None
