"""GraphiQL in a real browser: headless Chromium on the gateway served on loopback.

Debian's `chromium` is driven by Playwright's Python package through `executable_path` (no
browser download). Every request the page makes that is not to loopback is aborted and
recorded; the test asserts there was none. A newcomer's path is followed: the page opens
without an error and without a request to /graphql, a token is pasted, the schema of its role
appears in the docs pane, and the order page query runs. The last screen is saved as
`graphiql.png` in the test's tmp dir (its path is printed; the first test also keeps
`graphiql-first-screen.png`, the page as it opens without a token).

Where Chromium is missing this test fails, saying how to install it; set
CROSSDOCK_SKIP_BROWSER_TESTS=1 to skip it knowingly.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette

from backends.serve import serving
from tests.support.stack import token_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_ENV = "CROSSDOCK_SKIP_BROWSER_TESTS"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
WAIT_MS = 60_000  # an upper bound for a loaded machine, never a speed requirement


def chromium_or_fail() -> str:
    """Debian's Chromium, or a loud failure saying how to get it (or to skip knowingly)."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: the browser test was skipped on purpose")
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (as root: apt-get update && "
            f"apt-get install -y chromium; .ci/run does this), or set {SKIP_ENV}=1 to skip",
            pytrace=False,
        )
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else str(shutil.which("chromium"))


@dataclass
class Traffic:
    """Every request the page made, and those refused for leaving the machine."""

    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def posts_to_graphql(self) -> list[str]:
        return [r for r in self.requests if r.startswith("POST ") and r.endswith("/graphql")]


@pytest.fixture
async def gateway_url(gateway_app: Starlette) -> AsyncIterator[str]:
    async with serving(gateway_app, "127.0.0.1", 0) as port:
        yield f"http://127.0.0.1:{port}/graphql"


@pytest.fixture
async def page_and_traffic(tmp_path: Path) -> AsyncIterator[tuple[Any, Traffic]]:
    executable = chromium_or_fail()
    from playwright.async_api import Route, async_playwright

    traffic = Traffic()

    async def only_loopback(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK or url.startswith("data:"):
            await route.continue_()
        else:
            traffic.blocked.append(url)
            await route.abort("blockedbyclient")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        await context.route("**/*", only_loopback)
        page = await context.new_page()
        page.on("request", lambda r: traffic.requests.append(f"{r.method} {r.url}"))
        page.on(
            "console",
            lambda m: traffic.console_errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: traffic.console_errors.append(str(e)))
        try:
            yield page, traffic
        finally:
            shot = tmp_path / "graphiql.png"
            await page.screenshot(path=str(shot))
            print(f"GraphiQL screenshot: {shot}")
            await browser.close()


@pytest.mark.browser
@pytest.mark.sockets
async def test_graphiql_works_offline_with_a_pasted_token(
    gateway_url: str, page_and_traffic: tuple[Any, Traffic], tmp_path: Path
) -> None:
    page, traffic = page_and_traffic
    await page.goto(gateway_url, wait_until="load")
    await page.wait_for_selector(".graphiql-container", timeout=WAIT_MS)
    await page.wait_for_selector("text=No token yet", timeout=WAIT_MS)
    await page.screenshot(path=str(tmp_path / "graphiql-first-screen.png"))
    assert traffic.posts_to_graphql() == []  # no token, no request: nothing to fail
    assert "unauthenticated" not in (await page.inner_text("body")).lower()

    await page.fill("#crossdock-token", token_for("sales"))
    await page.click("text=Use token")
    await page.wait_for_selector("text=Signed in as test-sales (sales)", timeout=WAIT_MS)

    await page.click('[aria-label="Show Documentation Explorer"]')
    await page.click(".graphiql-doc-explorer a.graphiql-doc-explorer-type-name", timeout=WAIT_MS)
    docs = await page.inner_text(".graphiql-doc-explorer")
    assert "customers" in docs
    assert "shipments" in docs

    await page.click('[aria-label="Execute query (Ctrl-Enter)"]')
    await page.wait_for_selector(".result-window >> text=SO-000001", timeout=WAIT_MS)
    result = await page.inner_text(".result-window")
    assert '"customer"' in result
    assert '"lines"' in result
    assert '"errors"' not in result

    assert traffic.blocked == []
    assert traffic.console_errors == []
    print("\n".join(traffic.requests))


@pytest.mark.browser
@pytest.mark.sockets
async def test_a_token_pasted_in_the_headers_pane_loads_its_roles_schema(
    gateway_url: str, page_and_traffic: tuple[Any, Traffic]
) -> None:
    from playwright.async_api import expect

    page, traffic = page_and_traffic
    await page.goto(gateway_url, wait_until="load")
    await page.fill("#crossdock-token", f"Bearer {token_for('sales')}")
    await page.click("text=Use token")
    await page.click('[aria-label="Show Documentation Explorer"]')
    await page.click(".graphiql-doc-explorer a.graphiql-doc-explorer-type-name", timeout=WAIT_MS)
    docs = page.locator(".graphiql-doc-explorer")
    await expect(docs).to_contain_text("customers", timeout=WAIT_MS)

    await page.click("text=Headers")
    await page.click(".graphiql-editor-tool .graphiql-editor:visible")
    partner = token_for("partner", partner_id="DHL")
    await page.keyboard.insert_text(f'{{"Authorization": "Bearer {partner}"}}')
    status = page.locator(".crossdock-status")
    await expect(status).to_have_text(
        "Signed in as test-partner (partner, partner DHL)", timeout=WAIT_MS
    )
    # no "Re-fetch schema" click: the partner's schema replaces the sales one by itself
    await expect(docs).to_contain_text("shipments", timeout=WAIT_MS)
    await expect(docs).not_to_contain_text("customers", timeout=WAIT_MS)
    assert traffic.blocked == []
    assert traffic.console_errors == []


def test_a_missing_chromium_fails_loudly_unless_skipped_on_purpose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(f"{__name__}.CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv(SKIP_ENV, raising=False)
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        chromium_or_fail()
    monkeypatch.setenv(SKIP_ENV, "1")
    with pytest.raises(pytest.skip.Exception, match="skipped on purpose"):
        chromium_or_fail()
