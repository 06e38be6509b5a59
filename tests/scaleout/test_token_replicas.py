"""Two `crossdock serve` processes sharing Redis refresh the CRM's OAuth token once: the
Zoho emulation (a process of its own) counts its token calls."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from gateway.auth.tokens import mint
from resolvers.state.config import StateSettings
from tests.scaleout.replicas import Emulations, Replica, write_config
from tests.support.engines import PostgresServer, RedisServer
from tests.support.stack import JWT_SECRET

pytestmark = [pytest.mark.engines, pytest.mark.sockets]
ORDERS = "{ orders(first: 2) { nodes { number } } }"


async def test_two_replicas_refresh_the_crm_token_once(
    engines: tuple[PostgresServer, RedisServer], tmp_path: Path
) -> None:
    pg, redis = engines
    state = StateSettings(
        postgres_url=pg.create_database("token_replicas"),
        redis_url=redis.url.replace("/0", "/4"),  # a Redis database of its own
    )
    with Emulations.start(tmp_path, scale=0.05) as emulations:
        stats = emulations.zoho_url + "/_emulator/stats"
        config = write_config(tmp_path, emulations)
        with (
            Replica.start(config, state, name="a") as a,
            Replica.start(config, state, name="b") as b,
        ):
            token = mint(JWT_SECRET, subject="token-admin", roles=["admin"])
            headers = {"Authorization": f"Bearer {token}", "x-crossdock-csrf": "1"}
            async with httpx.AsyncClient(headers=headers, timeout=60.0) as http:
                (await http.post(stats + "/reset")).raise_for_status()
                replies = await asyncio.gather(
                    *(http.post(r.url + "/graphql", json={"query": ORDERS}) for r in (a, b) * 4)
                )
                assert all(r.status_code == 200 and "errors" not in r.json() for r in replies)
                routes = (await http.get(stats)).json()["routes"]
    assert routes.get("POST /oauth/v2/token") == 1, routes
    assert sum(v for k, v in routes.items() if k.startswith("GET /crm/v8/Sales_Orders")) >= 2
