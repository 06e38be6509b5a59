"""How the connector handles each error code, with the emulation made to fail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from backends.fxiaoke.app import FxiaokeEmulator, FxiaokeSettings
from backends.fxiaoke.limits import LimitSettings
from backends.fxiaoke.store import FxStore
from resolvers.breaker import Protection
from resolvers.errors import BackendAuthError, BackendRejected, BackendUnavailable
from resolvers.fxiaoke import FxiaokeCRM
from resolvers.fxiaoke.wire import QUERY
from resolvers.http import RetryPolicy
from tests.support.fxiaoke_emulation import FXIAOKE_URL, ClockedSleep, FakeClock, fxiaoke_options

TOKEN = "POST /cgi/corpAccessToken/get/V2"
Connect = Callable[..., tuple[FxiaokeEmulator, FxiaokeCRM]]
QUERIES = f"POST {QUERY}"


def token_route(crm: FxiaokeCRM) -> str:
    """The token endpoint of the connector's auth generation (the `options` fixture runs
    each connector test with both)."""
    return f"POST {crm.auth.path}"


def _ids(store: FxStore, api_name: str) -> list[str]:
    return [r["_id"] for r in store.select(api_name, "1", (), "_id", -1, 0)]


@pytest.fixture
async def connect(store: FxStore, clock: FakeClock, sleep: ClockedSleep) -> AsyncIterator[Connect]:
    """`connect(limits=..., **options)` → (emulator, connector) sharing the fake clock."""
    clients: list[httpx.AsyncClient] = []

    def make(
        limits: LimitSettings | None = None, **options: object
    ) -> tuple[FxiaokeEmulator, FxiaokeCRM]:
        settings = FxiaokeSettings(limits=limits or LimitSettings())
        emulator = FxiaokeEmulator(store, settings, clock=clock)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=emulator.app), base_url=FXIAOKE_URL
        )
        clients.append(client)
        crm = FxiaokeCRM(client, fxiaoke_options(**options), sleep=sleep, clock=clock, wall=clock)
        return emulator, crm

    yield make
    for client in clients:
        await client.aclose()


async def test_20016_renews_the_token_once_and_retries(
    crm: FxiaokeCRM, emulator: FxiaokeEmulator, store: FxStore
) -> None:
    ids = _ids(store, "AccountObj")[:2]
    await crm.get_accounts(ids, with_email=False)
    emulator.expire_tokens()
    emulator.stats.reset()
    assert len(await crm.get_accounts(ids, with_email=False)) == 2
    # refused (20016, or 20005 for the Bearer generation), new token, again
    assert emulator.stats.routes == {QUERIES: 2, token_route(crm): 1}


async def test_concurrent_callers_share_one_token_fetch(
    crm: FxiaokeCRM, emulator: FxiaokeEmulator, store: FxStore
) -> None:
    ids = _ids(store, "AccountObj")
    await asyncio.gather(*(crm.get_accounts(ids[i : i + 1], with_email=False) for i in range(8)))
    assert emulator.stats.routes[token_route(crm)] == 1


async def test_the_token_is_renewed_after_6600_seconds(
    crm: FxiaokeCRM, emulator: FxiaokeEmulator, clock: FakeClock
) -> None:
    await crm.ping()
    clock.advance(6_000)
    await crm.ping()
    assert emulator.stats.routes[token_route(crm)] == 1
    clock.advance(700)
    await crm.ping()
    assert emulator.stats.routes[token_route(crm)] == 2


async def test_the_client_limiter_waits_instead_of_meeting_14001(
    crm: FxiaokeCRM, emulator: FxiaokeEmulator, sleep: ClockedSleep
) -> None:
    for _ in range(130):
        await crm.ping()
    assert emulator.stats.routes[QUERIES] == 130  # none refused, none repeated
    assert crm.limiter.waited_s > 0
    assert sum(sleep.delays) >= 19  # the 101st call waited for the 20 s window


async def test_a_server_14001_is_retried_with_backoff_then_unavailable(
    crm: FxiaokeCRM, emulator: FxiaokeEmulator, sleep: ClockedSleep
) -> None:
    await crm.ping()
    emulator.controls.update({"throttle_rate": 1.0})
    emulator.stats.reset()
    with pytest.raises(BackendUnavailable) as caught:
        await crm.ping()
    assert caught.value.backend_code == "14001"
    assert emulator.stats.routes == {QUERIES: 3}  # attempts=3
    assert len(sleep.delays) == 2


async def test_30004_is_retried_until_the_second_passes(connect: Connect, store: FxStore) -> None:
    emulator, crm = connect(
        LimitSettings(per_second=2), retry=RetryPolicy(attempts=3, backoff_s=1.0)
    )
    for _ in range(3):
        await crm.ping()
    # the third call was refused (30004) and passed once the backoff had moved the clock
    assert emulator.stats.routes[QUERIES] >= 4


async def test_30002_fails_at_once_and_stops_calling(connect: Connect, store: FxStore) -> None:
    emulator, crm = connect(LimitSettings(daily_quota=2))
    await crm.ping()
    await crm.ping()
    with pytest.raises(BackendUnavailable) as caught:
        await crm.ping()
    assert caught.value.code == "BACKEND_UNAVAILABLE"
    assert "daily API quota" in caught.value.message
    assert emulator.stats.routes[QUERIES] == 3  # no retry
    with pytest.raises(BackendUnavailable):
        await crm.ping()
    assert emulator.stats.routes[QUERIES] == 3  # known exhausted: no call at all


async def test_the_client_quota_counter_refuses_without_a_call(connect: Connect) -> None:
    emulator, crm = connect(daily_quota=2)
    await crm.ping()
    await crm.ping()
    with pytest.raises(BackendUnavailable) as caught:
        await crm.ping()
    assert caught.value.public
    assert emulator.stats.routes[QUERIES] == 2


async def test_the_quota_counter_resets_at_midnight(connect: Connect, clock: FakeClock) -> None:
    _, crm = connect(daily_quota=1)
    await crm.ping()
    with pytest.raises(BackendUnavailable):
        await crm.ping()
    clock.advance(86_400)
    await crm.ping()


async def test_a_service_exception_on_a_read_is_retried(
    crm: FxiaokeCRM, emulator: FxiaokeEmulator
) -> None:
    await crm.ping()
    emulator.controls.update({"error_rate": 1.0})
    emulator.stats.reset()
    with pytest.raises(BackendUnavailable) as caught:
        await crm.ping()
    assert caught.value.backend_code == "50009"
    assert emulator.stats.total == 3


async def test_a_service_exception_on_a_write_is_not_retried(
    crm: FxiaokeCRM, emulator: FxiaokeEmulator, store: FxStore
) -> None:
    account = _ids(store, "AccountObj")[0]
    await crm.ping()
    emulator.controls.update({"error_rate": 1.0})
    emulator.stats.reset()
    data = {"object_data": {"dataObjectApiName": "ContactObj", "name": "X", "account_id": account}}
    with pytest.raises(BackendUnavailable) as caught:
        await crm.wire.call("/cgi/crm/v2/data/create", data, write=True)
    assert "not retried" in caught.value.message
    assert emulator.stats.routes == {"POST /cgi/crm/v2/data/create": 1}


async def test_10013_for_an_offset_past_10000_is_a_paging_error(crm: FxiaokeCRM) -> None:
    data = {
        "dataObjectApiName": "AccountObj",
        "search_query_info": {"limit": 100, "offset": 10_100},
    }
    with pytest.raises(BackendRejected) as caught:
        await crm.wire.call(QUERY, data)
    assert caught.value.backend_code == "10013"


async def test_bad_app_credentials_are_an_auth_error(connect: Connect) -> None:
    _, crm = connect(app_secret="wrong")
    with pytest.raises(BackendAuthError) as caught:
        await crm.ping()
    assert "crm.app_secret" in caught.value.message


async def test_a_wrong_open_user_id_is_an_auth_error(connect: Connect) -> None:
    _, crm = connect(open_user_id="FSUID_NOBODY")
    with pytest.raises(BackendAuthError) as caught:
        await crm.ping()
    assert caught.value.backend_code == "20012"


async def test_a_custom_field_the_tenant_lacks_is_named(connect: Connect, store: FxStore) -> None:
    _, crm = connect(external_ref_field="field_nope__c")
    with pytest.raises(BackendRejected) as caught:
        await crm.get_orders(_ids(store, "SalesOrderObj")[:1])
    assert "crm.external_ref_field" in caught.value.message


async def test_service_exceptions_in_a_200_open_the_circuit(connect: Connect) -> None:
    emulator, crm = connect(protection=Protection(failure_threshold=3, window_s=60, cooldown_s=60))
    await crm.ping()
    emulator.controls.update({"error_rate": 1.0})
    with pytest.raises(BackendUnavailable):
        await crm.ping()  # 3 attempts, each errorCode 50009: the third opens the circuit
    emulator.stats.reset()
    with pytest.raises(BackendUnavailable) as caught:
        await crm.ping()
    assert caught.value.extensions.get("circuit") == "open"
    assert emulator.stats.total == 0  # failed fast, no request
