"""The console's HTTP surface without a browser: off by default, its page and assets when on,
and the demo's role tokens served only by a gateway that verifies with the demo secret.

The script's own rules are checked on its text: it renders with DOM APIs only (no innerHTML,
no eval), keeps the token in sessionStorage (never localStorage, never a URL), and talks only
to /graphql, /views and the demo's token list.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from gateway.auth.tokens import DEMO_SECRET
from gateway.console import ASSETS_DIR, SCRIPT, asset_url, offer_demo_tokens
from gateway.settings import Settings, SettingsError
from gateway.settings.access import parse_auth
from gateway.settings.console import ConsoleSettings, parse_console
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.support.stack import GATEWAY_URL


@pytest.fixture
def console_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, console=ConsoleSettings(enabled=True))


async def _client(
    settings: Settings, crm: ZohoCRM, scm: ERPNext, tokens: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = assemble(settings, crm=crm, scm=scm)
    if tokens is not None:
        offer_demo_tokens(app, settings, tokens)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as client:
        yield client


@pytest.fixture
async def console(
    console_settings: Settings, crm: ZohoCRM, scm: ERPNext
) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(console_settings, crm, scm, {"admin": "not-offered"}):
        yield client


def test_the_console_is_off_unless_enabled() -> None:
    assert ConsoleSettings().enabled is False
    assert parse_console({}, {}).enabled is False
    assert parse_console({"enabled": True}, {}).enabled is True
    with pytest.raises(SettingsError, match=r"console.enabled must be true or false"):
        parse_console({"enabled": "yes"}, {})
    with pytest.raises(SettingsError, match=r"unknown key\(s\) in \[console\]: path"):
        parse_console({"path": "/x"}, {})


async def test_a_gateway_without_the_console_answers_404(
    settings: Settings, crm: ZohoCRM, scm: ERPNext
) -> None:
    async for client in _client(settings, crm, scm):
        assert (await client.get("/console")).status_code == 404
        assert (await client.get(asset_url(SCRIPT))).status_code == 404


async def test_the_page_is_served_with_a_strict_content_security_policy(
    console: httpx.AsyncClient,
) -> None:
    page = await console.get("/console")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "connect-src 'self'" in policy
    assert page.headers["referrer-policy"] == "no-referrer"
    # everything the page loads is its own, by hashed URL
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    own = [asset_url("console.css"), asset_url(SCRIPT)]
    assert sorted(sources) == sorted(["data:,", "#main", *own])
    for asset in own:
        assert (await console.get(asset)).status_code == 200
    assert "<script>" not in page.text  # no inline script (the CSP would refuse it)


async def test_assets_are_immutable_by_hash_and_gzipped_on_request(
    console: httpx.AsyncClient,
) -> None:
    url = asset_url(SCRIPT)
    plain = await console.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("text/javascript")
    assert "immutable" in plain.headers["cache-control"]
    assert plain.content == (ASSETS_DIR / SCRIPT).read_bytes()
    zipped = await console.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.content == plain.content  # httpx decodes; the header says it was gzipped
    assert zipped.headers["content-encoding"] == "gzip"
    again = await console.get(url, headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304
    assert (await console.get("/console/assets/console.js")).status_code == 404
    assert (await console.get("/console/assets/../settings.py")).status_code == 404


async def test_demo_tokens_are_refused_outside_the_demo(console: httpx.AsyncClient) -> None:
    # the fixture offered a token, but the gateway's secret is not the demo's: nothing served
    assert (await console.get("/console/demo-tokens")).status_code == 404


async def test_demo_tokens_are_served_when_the_demo_secret_is_in_use(
    console_settings: Settings, crm: ZohoCRM, scm: ERPNext
) -> None:
    demo_auth = parse_auth({}, {}, demo=True)
    assert demo_auth.hs256_secret == DEMO_SECRET
    settings = dataclasses.replace(console_settings, auth=demo_auth)
    async for client in _client(settings, crm, scm, {"admin": "t-admin", "partner": "t-p"}):
        answer = await client.get("/console/demo-tokens")
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store"
        roles = answer.json()["roles"]
        assert [r["role"] for r in roles] == ["admin", "partner"]
        assert roles[0]["token"] == "t-admin"


def test_a_disabled_console_is_offered_no_tokens(settings: Settings) -> None:
    demo = dataclasses.replace(settings, auth=parse_auth({}, {}, demo=True))
    app = Starlette()
    assert offer_demo_tokens(app, demo, {"admin": "t"}) is False  # console off
    on = dataclasses.replace(demo, console=ConsoleSettings(enabled=True))
    assert offer_demo_tokens(app, on, {"admin": "t"}) is True
    assert offer_demo_tokens(app, settings, {"admin": "t"}) is False  # not the demo secret


def test_the_script_renders_with_dom_apis_and_keeps_the_token_out_of_urls() -> None:
    script = (ASSETS_DIR / SCRIPT).read_text(encoding="utf-8")
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert forbidden not in script, forbidden
    assert "localStorage" not in script
    assert "sessionStorage.setItem(TOKEN_KEY" in script
    assert not re.search(r"[?&](token|access_token)=", script)
    # every URL it fetches is one of its own origin's
    fetched = set(re.findall(r"fetch\((\w+)", script))
    assert fetched <= {"GRAPHQL", "VIEWS", "DEMO_TOKENS", "url"}
    assert re.search(r"const url = view\.links\?\.\[format\] \?\? `\$\{VIEWS\}", script)


def test_the_package_ships_the_console() -> None:
    assert (ASSETS_DIR / "console.js").is_file()
    assert (ASSETS_DIR / "console.css").is_file()
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"static/console/*"' in pyproject
