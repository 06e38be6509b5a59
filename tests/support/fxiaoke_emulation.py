"""Helpers for the tests under tests/fxiaoke/ (fixtures: its conftest.py)."""

from __future__ import annotations

from typing import Any

import httpx

from backends.fxiaoke.app import FxiaokeSettings
from resolvers.fxiaoke import FxiaokeOptions
from resolvers.http import RetryPolicy

FXIAOKE_URL = "http://fxiaoke.test"
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
