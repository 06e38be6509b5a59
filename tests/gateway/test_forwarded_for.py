"""X-Forwarded-For names the client only when it comes from `[server] forwarded_allow_ips`.

On real sockets: the production gateway served with the options `crossdock serve` and the demo
use, with uvicorn's FORWARDED_ALLOW_IPS set to loopback (what a shell or a container image may
carry). A local process rotating the header must not escape the failed-authentication limit.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from backends.serve import serving
from gateway.protection.ratelimit import Rate
from gateway.server import protocol_options, uvicorn_options
from gateway.settings import Settings, SettingsError
from gateway.settings.server import parse_server
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.gateway.test_failed_auth_limit import ACCEPT, BAD, VIEWER, with_failed_auth
from tests.support.stack import gateway_settings

pytestmark = pytest.mark.sockets


@pytest.fixture(autouse=True)
def uvicorn_trusts_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn's own variable, set as a careless environment would: it must change nothing."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


@asynccontextmanager
async def gateway(
    tmp: Path, crm: ZohoCRM, scm: ERPNext, proxies: tuple[str, ...] = ()
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway (failed authentications: burst 3) on a loopback port."""
    settings = with_failed_auth(tmp, Rate(per_second=0.01, burst=3))
    server = dataclasses.replace(settings.server, forwarded_allow_ips=proxies)
    app = assemble(dataclasses.replace(settings, server=server), crm=crm, scm=scm)
    options = protocol_options(server)
    async with serving(app, "127.0.0.1", 0, lifespan="on", **options) as port:
        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base_url, headers=ACCEPT) as http:
            yield http


async def statuses(http: httpx.AsyncClient, forwarded_for: list[str]) -> list[int]:
    answers = [
        await http.post("/graphql", json=VIEWER, headers={**BAD, "x-forwarded-for": address})
        for address in forwarded_for
    ]
    return [answer.status_code for answer in answers]


async def test_rotating_x_forwarded_for_from_loopback_does_not_escape_the_limit(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    rotated = [f"198.51.100.{n}" for n in range(6)]
    async with gateway(tmp_path, crm, scm) as http:
        assert await statuses(http, rotated) == [401, 401, 401, 429, 429, 429]


async def test_a_forged_victim_address_spends_only_the_senders_own_bucket(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    victim = "203.0.113.50"
    async with gateway(tmp_path, crm, scm, proxies=("10.0.0.0/8",)) as http:
        # loopback is not a listed proxy: the header is the sender's claim, not its address
        assert await statuses(http, [victim] * 4) == [401, 401, 401, 429]


async def test_listed_proxies_give_each_forwarded_client_its_own_bucket(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    async with gateway(tmp_path, crm, scm, proxies=("127.0.0.1",)) as http:
        rotated = await statuses(http, [f"198.51.100.{n}" for n in range(6)])
        one_client = await statuses(http, ["203.0.113.9"] * 4)

    assert rotated == [401] * 6
    assert one_client == [401, 401, 401, 429]


async def client_of(request: Request) -> JSONResponse:
    return JSONResponse({"client": request.client.host if request.client else None})


async def test_serving_ignores_proxy_headers_unless_told(tmp_path: Path) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Route

    app = Starlette(routes=[Route("/", client_of)])
    forged = {"x-forwarded-for": "198.51.100.7"}
    async with serving(app, "127.0.0.1", 0) as port, httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{port}/", headers=forged)
    assert response.json() == {"client": "127.0.0.1"}


def settings_from(server: dict[str, Any], env: dict[str, str]) -> Settings:
    return dataclasses.replace(gateway_settings(), server=parse_server(server, env))


def test_serve_passes_the_proxy_list_explicitly_whatever_the_environment() -> None:
    plain = uvicorn_options(
        settings_from({}, {"FORWARDED_ALLOW_IPS": "127.0.0.1,::1"}), host=None, port=None
    )
    proxied = uvicorn_options(
        settings_from({"forwarded_allow_ips": ["10.0.0.0/8"]}, {}), host=None, port=None
    )
    assert (plain["proxy_headers"], plain["forwarded_allow_ips"]) == (False, "")
    assert (proxied["proxy_headers"], proxied["forwarded_allow_ips"]) == (True, "10.0.0.0/8")


@pytest.mark.parametrize(
    ("server", "env", "message"),
    [
        # uvicorn's variable may not widen the list to everyone, even though it is not read
        ({}, {"FORWARDED_ALLOW_IPS": "*"}, "FORWARDED_ALLOW_IPS='*' is refused"),
        ({}, {"FORWARDED_ALLOW_IPS": "10.0.0.1, *"}, "[server] forwarded_allow_ips"),
        ({"forwarded_allow_ips": ["*"]}, {}, "server.forwarded_allow_ips may not be '*'"),
        # every address, spelled as a network
        ({"forwarded_allow_ips": ["0.0.0.0/0"]}, {}, "may not be '0.0.0.0/0': that is every"),
        ({"forwarded_allow_ips": ["::/0"]}, {}, "may not be '::/0'"),
    ],
)
def test_trusting_every_address_is_refused_wherever_it_is_said(
    server: dict[str, Any], env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        settings_from(server, env)
