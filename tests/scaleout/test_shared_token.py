"""The CRM's OAuth token shared through a real Redis: connectors of two "replicas" (each with
its own state layer, Redis connections and token source) over the Zoho emulation, whose
token calls are counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeVar

import httpx
import pytest
import redis.asyncio

from backends.fxiaoke.app import FxiaokeEmulator
from backends.zoho.app import ZohoEmulator
from gateway.shared_tokens import share_crm_token
from resolvers.fxiaoke import FxiaokeCRM
from resolvers.state.config import StateSettings
from resolvers.state.errors import StateUnavailable
from resolvers.state.layer import open_state
from resolvers.state.redis_tokens import RedisTokenShare, token_key
from resolvers.zoho import ZohoCRM
from tests.support.connectors import ZOHO_URL, zoho_options
from tests.support.engines import free_port
from tests.support.fxiaoke_emulation import (
    FXIAOKE_UNLIMITED,
    FXIAOKE_URL,
    FxSeededStores,
    fxiaoke_gateway_options,
)

pytestmark = pytest.mark.engines
SECRETS = ("crossdock-demo-secret", "crossdock-demo-refresh")
CRM = TypeVar("CRM", ZohoCRM, FxiaokeCRM)


def token_calls(emulator: ZohoEmulator) -> int:
    return int(emulator.stats.snapshot()["routes"].get("POST /oauth/v2/token", 0))


@pytest.fixture
async def replicas(
    state_settings: StateSettings, crm_emulator: ZohoEmulator
) -> AsyncIterator[list[ZohoCRM]]:
    """Two Zoho connectors, each sharing its token through its own state layer."""
    connect = partial(ZohoCRM, options=zoho_options())
    async with sharing_replicas(state_settings, crm_emulator.app, ZOHO_URL, connect) as crms:
        crm_emulator.stats.reset()
        yield crms


@asynccontextmanager
async def sharing_replicas(
    state_settings: StateSettings,
    app: Any,
    base_url: str,
    connect: Callable[[httpx.AsyncClient], CRM],
) -> AsyncIterator[list[CRM]]:
    """Two connectors to `app`, each with its own client and state layer, sharing the token."""
    states = [open_state(state_settings), open_state(state_settings)]
    transport = httpx.ASGITransport(app=app)
    clients = [httpx.AsyncClient(transport=transport, base_url=base_url) for _ in states]
    connectors = [connect(client) for client in clients]
    for crm, state in zip(connectors, states, strict=True):
        share_crm_token(crm, state)
        assert isinstance(crm.auth.share, RedisTokenShare)
    try:
        yield connectors
    finally:
        for client in clients:
            await client.aclose()
        for state in states:
            await state.aclose()


async def test_two_replicas_refresh_the_token_once(
    replicas: list[ZohoCRM], crm_emulator: ZohoEmulator
) -> None:
    await asyncio.gather(*(crm.ping() for crm in replicas for _ in range(5)))

    assert token_calls(crm_emulator) == 1
    a, b = replicas
    assert (await a.auth.current()).access_token == (await b.auth.current()).access_token


async def test_a_refused_token_is_refreshed_once_for_every_replica(
    replicas: list[ZohoCRM], crm_emulator: ZohoEmulator
) -> None:
    await asyncio.gather(*(crm.ping() for crm in replicas))
    crm_emulator.expire_tokens()  # the next call of each replica gets 401 INVALID_TOKEN

    await asyncio.gather(*(crm.ping() for crm in replicas for _ in range(3)))

    assert token_calls(crm_emulator) == 2


async def test_the_token_is_sealed_in_redis_and_named_without_secrets(
    replicas: list[ZohoCRM], state_settings: StateSettings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await replicas[0].ping()
    token = (await replicas[0].auth.current()).access_token
    share = replicas[0].auth.share
    assert isinstance(share, RedisTokenShare)

    assert state_settings.redis_url is not None
    async with redis.asyncio.Redis.from_url(state_settings.redis_url) as client:
        keys = [k.decode() for k in await client.keys("*oauth*")]
        stored = await client.get(share.key)
    assert keys == [share.key]
    assert not any(secret in share.key for secret in SECRETS)
    assert stored is not None
    assert token.encode() not in stored
    assert token not in caplog.text


async def test_without_redis_a_replica_needing_a_token_fails_clearly(
    crm_emulator: ZohoEmulator,
) -> None:
    gone = redis.asyncio.Redis(port=free_port(), socket_connect_timeout=1)
    transport = httpx.ASGITransport(app=crm_emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=ZOHO_URL) as client:
        crm = ZohoCRM(client, zoho_options())
        crm.auth.share = RedisTokenShare(
            gone, key=token_key("crossdock:", "zoho", ("x",)), secret=SECRETS
        )
        crm_emulator.stats.reset()
        with pytest.raises(StateUnavailable, match="Redis"):
            await crm.ping()
    assert token_calls(crm_emulator) == 0  # no refresh of its own behind the others' backs
    await gone.aclose()


async def test_embedded_state_keeps_the_token_in_process(
    crm_emulator: ZohoEmulator,
) -> None:
    transport = httpx.ASGITransport(app=crm_emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=ZOHO_URL) as client:
        crm = ZohoCRM(client, zoho_options())
        share_crm_token(crm, open_state(StateSettings()))
    assert crm.auth.share is None


FX_TOKEN_CALL = "POST /cgi/corpAccessToken/get/V2"


@pytest.fixture
async def fx_replicas(
    state_settings: StateSettings, fxiaoke_stores: FxSeededStores
) -> AsyncIterator[tuple[list[FxiaokeCRM], FxiaokeEmulator]]:
    """Two Fxiaoke connectors over one emulated tenant, each sharing its token through its
    own state layer (the token endpoint allows no concurrent calls: one fetch for all)."""
    emulator = FxiaokeEmulator(fxiaoke_stores.fx, FXIAOKE_UNLIMITED)
    connect = partial(FxiaokeCRM, options=fxiaoke_gateway_options())
    async with sharing_replicas(state_settings, emulator.app, FXIAOKE_URL, connect) as crms:
        emulator.stats.reset()
        yield crms, emulator


def fx_token_calls(emulator: FxiaokeEmulator) -> int:
    return int(emulator.stats.snapshot()["routes"].get(FX_TOKEN_CALL, 0))


async def test_two_fxiaoke_replicas_fetch_the_token_once_and_renew_it_once(
    fx_replicas: tuple[list[FxiaokeCRM], FxiaokeEmulator],
) -> None:
    connectors, emulator = fx_replicas
    await asyncio.gather(*(crm.ping() for crm in connectors for _ in range(5)))
    assert fx_token_calls(emulator) == 1
    a, b = connectors
    assert (await a.auth.current()).value == (await b.auth.current()).value

    emulator.expire_tokens()  # the next call of each replica gets 20016
    await asyncio.gather(*(crm.ping() for crm in connectors for _ in range(3)))
    assert fx_token_calls(emulator) == 2
