"""Failed authentications are throttled per client address, before any token is verified.

Through HTTP: the production app (`gateway.wiring.assemble`) for the settings and the views,
and `create_app` with an injected clock and a counting spy around the real Authenticator
where a test needs time to move or to see which requests were verified.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request

from gateway.access.policy import Policy
from gateway.app import create_app
from gateway.auth import Authenticator, AuthError, auth_exception_handler
from gateway.protection.hardening import rate_limiter
from gateway.protection.ratelimit import FailedAuthLimiter, Rate, RateLimiter, client_address
from gateway.settings import Settings, SettingsError
from gateway.settings.hardening import RateLimitSettings, parse_rate_limits
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from schema.principal import Principal
from tests.support.stack import GATEWAY_URL, gateway_settings, token_for

ACCEPT = {"accept": "application/graphql-response+json", "x-crossdock-csrf": "1"}
VIEWER = {"query": "{ viewer { subject } }"}
ATTACKER, NEIGHBOUR = "203.0.113.7", "198.51.100.20"
BAD = {"authorization": "Bearer not.a.jwt"}
FORGED = "Bearer " + token_for("admin")[:-4] + "AAAA"  # a real JWT with a broken signature


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


Client = Callable[[str], httpx.AsyncClient]


@asynccontextmanager
async def clients(app: Starlette) -> AsyncIterator[Client]:
    """`client(address)`: an HTTP client whose requests come from `address`."""
    opened: list[httpx.AsyncClient] = []

    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40_000))
        opened.append(httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL, headers=ACCEPT))
        return opened[-1]

    async with app.router.lifespan_context(app):
        yield client
    for http in opened:
        await http.aclose()


def with_failed_auth(tmp: Path, rate: Rate | None) -> Settings:
    rates = RateLimitSettings(default=Rate(per_second=1000, burst=1000), failed_auth=rate)
    return dataclasses.replace(gateway_settings(tmp), rate_limits=rates)


def bearer(role: str = "admin") -> dict[str, str]:
    return {"authorization": f"Bearer {token_for(role)}"}


async def statuses(http: httpx.AsyncClient, count: int, headers: dict[str, str]) -> list[int]:
    return [(await http.post("/graphql", json=VIEWER, headers=headers)).status_code
            for _ in range(count)]  # fmt: skip


class CountingAuthenticator:
    """A spy around the real Authenticator: counts the requests it was asked to verify."""

    def __init__(self, real: Callable[[Request], Any]) -> None:
        self.real = real
        self.calls = 0

    async def __call__(self, request: Request) -> Principal:
        self.calls += 1
        principal: Principal = await self.real(request)
        return principal


@dataclasses.dataclass
class Injected:
    app: Starlette
    clock: FakeClock
    spy: CountingAuthenticator


@pytest.fixture
def injected(tmp_path: Path, crm: ZohoCRM, scm: ERPNext) -> Injected:
    """`create_app` with a failed-auth bucket of burst 3 refilling 1 per s on a fake clock."""
    settings = gateway_settings(tmp_path)
    clock = FakeClock()
    spy = CountingAuthenticator(Authenticator(settings.auth, Policy.load(None)))
    failed = FailedAuthLimiter(Rate(per_second=1, burst=3), clock=clock)
    limiter = RateLimiter({}, default=Rate(1000, 1000), clock=clock, failed_auth=failed)
    app = create_app(settings, crm=crm, scm=scm, authenticate=spy, rate_limiter=limiter)
    app.add_exception_handler(AuthError, auth_exception_handler)
    return Injected(app, clock, spy)


async def test_a_flood_of_bad_tokens_from_one_address_gets_429_with_retry_after(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    app = assemble(with_failed_auth(tmp_path, Rate(per_second=0.5, burst=3)), crm=crm, scm=scm)
    async with clients(app) as client:
        attacker = client(ATTACKER)
        failures = await statuses(attacker, 3, BAD)
        refused = await attacker.post("/graphql", json=VIEWER, headers={"authorization": FORGED})

    assert failures == [401, 401, 401]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"  # one token refills in 1 / 0.5 s
    assert "www-authenticate" not in refused.headers
    error = refused.json()["errors"][0]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 2}
    assert "failed authentications" in error["message"]


async def test_a_valid_token_from_another_address_still_works_during_the_flood(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    app = assemble(with_failed_auth(tmp_path, Rate(per_second=0.5, burst=3)), crm=crm, scm=scm)
    async with clients(app) as client:
        assert await statuses(client(ATTACKER), 5, BAD) == [401, 401, 401, 429, 429]
        neighbour = await client(NEIGHBOUR).post("/graphql", json=VIEWER, headers=bearer())

    assert neighbour.status_code == 200
    assert neighbour.json() == {"data": {"viewer": {"subject": "test-admin"}}}


async def test_a_throttled_address_is_refused_even_a_valid_token_without_verifying_it(
    injected: Injected,
) -> None:
    async with clients(injected.app) as client:
        attacker = client(ATTACKER)
        await statuses(attacker, 3, BAD)
        verified_before = injected.spy.calls
        refused = await statuses(attacker, 10, BAD) + await statuses(attacker, 1, bearer())

    assert refused == [429] * 11
    assert injected.spy.calls == verified_before  # no signature was checked for them


async def test_successful_authentications_take_nothing_from_the_addresses_bucket(
    injected: Injected,
) -> None:
    async with clients(injected.app) as client:
        office = client(ATTACKER)  # many valid callers behind one NAT address
        valid = await statuses(office, 30, bearer())
        mistakes = await statuses(office, 4, BAD)

    assert valid == [200] * 30
    assert mistakes == [401, 401, 401, 429]


async def test_time_moving_on_refills_the_bucket_one_attempt_per_refill(
    injected: Injected,
) -> None:
    async with clients(injected.app) as client:
        attacker = client(ATTACKER)
        flood = await statuses(attacker, 4, BAD)
        injected.clock.now += 1.0  # one token back: one more attempt is verified
        after_one_second = await statuses(attacker, 2, BAD)
        injected.clock.now += 0.5
        halfway = await statuses(attacker, 1, bearer())
        injected.clock.now += 0.5
        valid = await statuses(attacker, 3, bearer())

    assert flood == [401, 401, 401, 429]
    assert after_one_second == [401, 429]
    assert halfway == [429]
    assert valid == [200, 200, 200]


async def test_requests_without_credentials_are_not_counted_as_failures(
    injected: Injected,
) -> None:
    async with clients(injected.app) as client:
        browser = client(ATTACKER)
        anonymous = [(await browser.post("/graphql", json=VIEWER)).status_code for _ in range(10)]
        valid = await statuses(browser, 1, bearer())

    assert anonymous == [401] * 10  # a cheap 401: nothing was there to verify
    assert valid == [200]


async def test_an_authenticator_raising_starlettes_401_counts_and_its_403_does_not(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    async def authenticate(request: Request) -> Principal:
        status = 403 if request.headers["authorization"] == "Bearer forbidden" else 401
        raise HTTPException(status_code=status)

    failed = FailedAuthLimiter(Rate(per_second=1, burst=2), clock=FakeClock())
    limiter = RateLimiter({}, default=Rate(1000, 1000), failed_auth=failed)
    settings = gateway_settings(tmp_path)
    app = create_app(settings, crm=crm, scm=scm, authenticate=authenticate, rate_limiter=limiter)
    async with clients(app) as client:
        http = client(ATTACKER)
        forbidden = await statuses(http, 5, {"authorization": "Bearer forbidden"})
        unauthorized = await statuses(http, 3, BAD)

    assert forbidden == [403] * 5
    assert unauthorized == [401, 401, 429]


async def test_an_unreachable_identity_provider_is_not_the_callers_failure(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    async def keys_unavailable(request: Request) -> Principal:
        raise AuthError("signing keys unavailable", caller_fault=False)

    limiter = RateLimiter(
        {}, default=Rate(1000, 1000), failed_auth=FailedAuthLimiter(Rate(per_second=1, burst=2))
    )
    settings = gateway_settings(tmp_path)
    app = create_app(
        settings, crm=crm, scm=scm, authenticate=keys_unavailable, rate_limiter=limiter
    )
    app.add_exception_handler(AuthError, auth_exception_handler)
    async with clients(app) as client:
        outage = await statuses(client(ATTACKER), 5, bearer())

    assert outage == [401] * 5


async def test_the_views_share_the_addresses_bucket_and_answer_429(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    app = assemble(with_failed_auth(tmp_path, Rate(per_second=0.5, burst=3)), crm=crm, scm=scm)
    async with clients(app) as client:
        attacker = client(ATTACKER)
        graphql = await statuses(attacker, 2, BAD)
        export = await attacker.get("/views/order_lines.csv", headers=BAD)
        refused = await attacker.get("/views/order_lines.csv", headers=bearer())
        listing = await attacker.get("/views", headers=BAD)

    assert graphql == [401, 401]
    assert export.status_code == 401
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert listing.status_code == 429


async def test_with_failed_auth_off_a_flood_only_ever_gets_401(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    app = assemble(with_failed_auth(tmp_path, None), crm=crm, scm=scm)
    async with clients(app) as client:
        assert await statuses(client(ATTACKER), 25, BAD) == [401] * 25


def test_a_throttled_address_is_logged_once_per_window_and_never_with_a_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    failed = FailedAuthLimiter(Rate(per_second=0.01, burst=1), clock=clock, log_every_s=60)
    for address in (ATTACKER, NEIGHBOUR):
        failed.failed(address)
    with caplog.at_level(logging.WARNING, logger="crossdock.ratelimit"):
        for _ in range(50):
            assert not failed.check(ATTACKER).allowed
        failed.check(NEIGHBOUR)
        clock.now += 30
        failed.check(ATTACKER)
        clock.now += 30
        failed.check(ATTACKER)

    lines = [record.getMessage() for record in caplog.records]
    assert [line.split()[3] for line in lines] == [ATTACKER, NEIGHBOUR, ATTACKER]
    assert "Bearer" not in caplog.text


def test_memory_stays_bounded_under_failures_from_a_flood_of_addresses() -> None:
    clock = FakeClock()
    failed = FailedAuthLimiter(Rate(per_second=1, burst=2), clock=clock, max_keys=100)
    for n in range(5_000):
        address = f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"
        failed.failed(address)
        failed.failed(address)
        failed.check(address)
    assert len(failed) <= 100
    clock.now += 10.0  # every bucket refilled: idle addresses cost nothing
    failed.failed("192.0.2.1")
    assert len(failed) == 1


def test_an_address_never_seen_is_allowed_and_creates_no_bucket() -> None:
    failed = FailedAuthLimiter(Rate(per_second=1, burst=2))
    assert failed.check(ATTACKER).allowed
    assert len(failed) == 0


@pytest.mark.parametrize(
    ("client", "key"),
    [
        (("203.0.113.7", 5000), "203.0.113.7"),
        # one host gets a whole /64: its addresses share one bucket
        (("2001:db8:1:2:aaaa::1", 5000), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:ffff::9", 5000), "2001:db8:1:2::/64"),
        # a dual-stack socket reports IPv4 clients as mapped IPv6 addresses
        (("::ffff:203.0.113.7", 5000), "203.0.113.7"),
        (None, "unknown"),  # ASGI allows servers not to know the client
        (("testclient", 50000), "testclient"),  # starlette's TestClient
    ],
)
def test_the_client_address_is_the_rate_limit_key(client: Any, key: str) -> None:
    assert client_address(client) == key


def test_failed_auth_is_on_by_default_and_can_be_shaped_or_turned_off() -> None:
    assert parse_rate_limits({}, {}).failed_auth == Rate(per_second=1, burst=20)
    shaped = parse_rate_limits({"failed_auth": {"per_second": 0.5, "burst": 5}}, {})
    assert shaped.failed_auth == Rate(per_second=0.5, burst=5)
    assert parse_rate_limits({"failed_auth": False}, {}).failed_auth is None


@pytest.mark.parametrize(
    ("failed_auth", "message"),
    [
        (5, "rate_limits.failed_auth must be a table { per_second = 1, burst = 20 } or false"),
        ("off", "rate_limits.failed_auth must be a table"),  # a string is not false
        ({"per_second": 0, "burst": 5}, "rate_limits.failed_auth needs per_second > 0"),
        ({"per_second": 1}, "rate_limits.failed_auth needs per_second > 0 and burst >= 1"),
        ({"per_second": 1, "brust": 5}, "unknown key(s) in [rate_limits.failed_auth]: brust"),
        ({"per_second": -1, "burst": 5}, "rate_limits.failed_auth.per_second must be a number"),
    ],
)
def test_bad_failed_auth_settings_name_the_key_and_the_fix(failed_auth: Any, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        parse_rate_limits({"failed_auth": failed_auth}, {})


@pytest.mark.parametrize(
    ("table", "on"),
    [
        ({}, True),  # the default
        ({"failed_auth": False}, False),
        ({"enabled": False}, False),  # the master switch turns every rate limit off
    ],
)
def test_the_hardening_builds_the_failed_auth_limiter_from_settings(
    tmp_path: Path, table: dict[str, Any], on: bool
) -> None:
    settings = dataclasses.replace(
        gateway_settings(tmp_path), rate_limits=parse_rate_limits(table, {})
    )
    limiter = rate_limiter(settings)
    assert (limiter is not None and limiter.failed_auth is not None) == on
