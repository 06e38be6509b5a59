"""The console's browser tests' fixtures: `crossdock demo` in a thread (one per test module),
headless Chromium (Debian's, through Playwright's `executable_path`) and tabs on the demo."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from gateway.cli.demo import Demo, demo_running
from tests.console.support import WAIT_MS, Tab, is_graphql_json, one_attempt
from tests.gateway.test_graphiql_browser import CHROMIUM_ARGS, LOOPBACK, chromium_or_fail


@pytest.fixture(scope="module")
def demo_thread(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Demo, asyncio.AbstractEventLoop]]:
    """`crossdock demo` on loopback (free ports, small seed) in a thread, and its event loop."""
    data_dir = tmp_path_factory.mktemp("console-demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    started = threading.Event()
    held: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        held["stop"] = (asyncio.get_running_loop(), stop)
        async with demo_running(
            data_dir=data_dir,
            scale=0.02,
            env=env,
            port=0,
            emulation_ports=(0, 0),
            adjust=one_attempt,
            admin=True,  # the emulations' fault knobs: a test takes the ERP down
        ) as running:
            held["demo"] = running
            started.set()
            await stop.wait()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:  # reported by the fixture, not lost in the thread
            held["error"] = error
        finally:
            started.set()

    thread = threading.Thread(target=run, name="console-demo", daemon=True)
    thread.start()
    assert started.wait(WAIT_MS / 1000), "the demo did not start"
    if "error" in held:
        raise held["error"]
    loop, stop = held["stop"]
    yield held["demo"], loop
    loop.call_soon_threadsafe(stop.set)
    thread.join(WAIT_MS / 1000)


@pytest.fixture(scope="module")
def demo(demo_thread: tuple[Demo, asyncio.AbstractEventLoop]) -> Demo:
    return demo_thread[0]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_or_fail()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def open_tab(browser: Any, demo: Demo) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(viewport: tuple[int, int] = (1300, 900)) -> Tab:
        from playwright.sync_api import Route

        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        contexts.append(context)
        tab = Tab(context.new_page(), demo.url.removesuffix("/graphql"))

        def only_loopback(route: Route) -> None:
            url = route.request.url
            if urlsplit(url).hostname in LOOPBACK or url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                tab.blocked.append(url)
                route.abort("blockedbyclient")

        context.route("**/*", only_loopback)
        page = tab.page
        page.on("request", lambda r: tab.requests.append(f"{r.method} {r.url}"))
        page.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: tab.problems.append(str(e)))
        page.on("response", lambda r: tab.graphql.append(r) if is_graphql_json(r) else None)
        return tab

    yield make
    for context in contexts:
        context.close()
