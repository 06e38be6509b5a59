"""Connectors over real loopback sockets, as `crossdock serve` runs them (opt-in).

    CROSSDOCK_TEST_BACKENDS=sockets .venv/bin/python -m pytest -q tests/schema tests/gateway

With that variable, the suite's `crm` and `scm` fixtures (tests/conftest.py) serve each
emulation with uvicorn on a free port and build the connector over the aiohttp adapter
(resolvers/fast_transport.py) instead of httpx.ASGITransport: the same tests then check the
production client end to end. Tests that expect the fixtures' `*.test` host names in what
they assert (trace attributes, links) do not apply in that mode.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.types import ASGIApp

from backends.serve import serving
from resolvers.fast_transport import AiohttpTransport

OVER_SOCKETS = os.environ.get("CROSSDOCK_TEST_BACKENDS") == "sockets"


@asynccontextmanager
async def over_sockets(app: ASGIApp) -> AsyncIterator[tuple[str, AiohttpTransport]]:
    """`app` served on a free loopback port: its base URL, and a transport to reach it."""
    async with serving(app, "127.0.0.1", 0, timeout_graceful_shutdown=1) as port:
        transport = AiohttpTransport(max_connections=10)
        try:
            yield f"http://127.0.0.1:{port}", transport
        finally:
            await transport.aclose()
