"""Real PostgreSQL and Redis for the shared-state tests (tests.scaleout.engines).

One server of each per test session; each test gets a fresh database and an empty Redis.
Absent engines skip these tests with a message saying how to install them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from resolvers.state.config import StateSettings
from tests.scaleout.engines import PostgresServer, RedisServer, missing

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def engines() -> Iterator[tuple[PostgresServer, RedisServer]]:
    why = missing()
    if why is not None:
        pytest.skip(why)
    with PostgresServer.start() as pg, RedisServer.start() as redis:
        yield pg, redis


@pytest.fixture
def postgres(engines: tuple[PostgresServer, RedisServer]) -> PostgresServer:
    return engines[0]


@pytest.fixture
def redis_server(engines: tuple[PostgresServer, RedisServer]) -> RedisServer:
    engines[1].flush()
    return engines[1]


@pytest.fixture
def state_settings(postgres: PostgresServer, redis_server: RedisServer) -> StateSettings:
    """Shared state in a fresh database, short leases and lock expiries (tests wait less)."""
    url = postgres.create_database(f"t{next(_databases)}_{id(postgres) % 10_000}")
    return StateSettings(
        postgres_url=url,
        redis_url=redis_server.url,
        lease_s=3.0,
        lock_ttl_s=3.0,
        lock_wait_s=20.0,
    )
