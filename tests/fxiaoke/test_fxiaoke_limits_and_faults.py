"""The tenant's limits (14001, 30004, 30002) and the shared fault knobs and call counters."""

from __future__ import annotations

import httpx

from backends.fxiaoke.app import FxiaokeEmulator, FxiaokeSettings
from backends.fxiaoke.limits import LimitSettings
from backends.fxiaoke.store import FxStore
from tests.support.fxiaoke_emulation import FXIAOKE_URL, FakeClock, FxCaller, legacy_auth

QUERY = "/cgi/crm/v2/data/query"


async def _caller(store: FxStore, clock: FakeClock, limits: LimitSettings) -> FxCaller:
    emulator = FxiaokeEmulator(store, FxiaokeSettings(limits=limits), clock=clock)
    transport = httpx.ASGITransport(app=emulator.app)
    client = httpx.AsyncClient(transport=transport, base_url=FXIAOKE_URL)
    return FxCaller(client, await legacy_auth(client))


async def _codes(fx: FxCaller, n: int, api_name: str = "AccountObj") -> list[int]:
    return [(await fx.query(api_name, limit=1))["errorCode"] for _ in range(n)]


async def test_the_101st_call_to_one_interface_in_20s_gets_14001(
    fx: FxCaller, clock: FakeClock
) -> None:
    assert set(await _codes(fx, 100)) == {0}
    assert await _codes(fx, 1) == [14001]
    describe = await fx.call("/cgi/crm/v2/object/describe", apiName="AccountObj")
    assert describe["errorCode"] == 0  # the limit is per interface
    clock.advance(20)
    assert await _codes(fx, 1) == [0]


async def test_a_per_second_cap_answers_30004(store: FxStore, clock: FakeClock) -> None:
    fx = await _caller(store, clock, LimitSettings(per_second=3))
    assert await _codes(fx, 4) == [0, 0, 0, 30004]
    clock.advance(1)
    assert await _codes(fx, 1) == [0]


async def test_the_daily_quota_answers_30002_until_midnight(
    store: FxStore, clock: FakeClock
) -> None:
    fx = await _caller(store, clock, LimitSettings(daily_quota=5))
    assert await _codes(fx, 6) == [0] * 5 + [30002]
    clock.advance(86_400)  # the next day in the tenant's zone
    fx.auth = await legacy_auth(fx.client)  # a day outlives the token too
    assert await _codes(fx, 1) == [0]


async def test_an_injected_error_is_http_200_with_50009(
    fx: FxCaller, emulator: FxiaokeEmulator
) -> None:
    emulator.controls.update({"error_rate": 1.0})
    response = await fx.client.post(QUERY, json={**fx.auth, "data": {}})
    assert (response.status_code, response.json()["errorCode"]) == (200, 50009)


async def test_injected_throttling_is_14001(fx: FxCaller, emulator: FxiaokeEmulator) -> None:
    emulator.controls.update({"throttle_rate": 1.0})
    assert await _codes(fx, 1) == [14001]


async def test_down_is_a_503_from_in_front_of_the_api(
    fx: FxCaller, emulator: FxiaokeEmulator
) -> None:
    emulator.controls.update({"down": True})
    response = await fx.client.post(QUERY, json={})
    assert response.status_code == 503


async def test_calls_are_counted_by_verb(fx: FxCaller, emulator: FxiaokeEmulator) -> None:
    emulator.stats.reset()
    await _codes(fx, 3)
    await fx.call("/cgi/crm/v2/object/describe", apiName="AccountObj")
    routes = emulator.stats.snapshot()["routes"]
    assert routes == {f"POST {QUERY}": 3, "POST /cgi/crm/v2/object/describe": 1}
