"""`python -m bench.metrics [--rounds R] [--requests N] [--first F] [--scale S]`: what the
Prometheus metrics cost, in gateway CPU per W2 request, off and on, in the same process and
minute (as bench.tracing measures tracing).

Both emulations run in a child process (`bench.harness.emulations`), so this process's CPU
(`time.process_time`) is the gateway's and its HTTP client's only. Gateways are assembled in
this process over their own connectors, as `crossdock serve` builds them, and driven over
ASGI: `[metrics] enabled = false`; metrics on (the default: one process counting in memory);
metrics on in multiprocess mode (what each worker of `serve --workers N` does: every value
written to a memory-mapped file in `PROMETHEUS_MULTIPROC_DIR`); and metrics on with `/metrics`
scraped after every request (a scrape's own cost, spread over one request: far more often
than a real scraper's 15 s). The modes take turns, N requests each, for R rounds; the
medians per request are compared.

prometheus-client chooses its value store when it is imported, from the environment, and a
labelled metric makes each new series' value when first used: so the store is switched to
the multiprocess one for the whole of that gateway's turns (construction, warm-up, rounds)
and back for the others', and both kinds live in one process here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import tomllib
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import httpx
from prometheus_client import values
from starlette.applications import Starlette

from bench.cost import cpu_per_request, ratio_table, title
from bench.harness import BENCH_SECRET, emulations, free_port, gateway_config
from bench.workloads import GatewayClient
from gateway.auth.tokens import mint
from gateway.observe.multiprocess import ENV
from gateway.settings import parse_settings
from gateway.wiring import assemble, build_backends

MULTIPROCESS = "on, multiprocess files"
MODES = ("off", "on", MULTIPROCESS, "on, scraped after every request")


@contextlib.contextmanager
def multiprocess_store(directory: Path) -> Iterator[None]:
    """prometheus-client's multiprocess value store while metrics are created."""
    saved, saved_env = values.ValueClass, os.environ.get(ENV)
    os.environ[ENV] = str(directory)
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        values.ValueClass = saved
        if saved_env is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = saved_env


def store_for(mode: str, files: Path) -> contextlib.AbstractContextManager[None]:
    """The multiprocess store during the multiprocess gateway's turns, else nothing."""
    if mode == MULTIPROCESS:
        return multiprocess_store(files)
    return contextlib.nullcontext()


@contextlib.asynccontextmanager
async def gateway(config: str, enabled: bool) -> AsyncIterator[Starlette]:
    raw = tomllib.loads(config)
    raw["metrics"] = {"enabled": enabled}
    settings = parse_settings(raw)
    backends = build_backends(settings)
    app = assemble(settings, crm=backends.crm, scm=backends.scm, on_shutdown=[backends.aclose])
    async with app.router.lifespan_context(app):
        yield app


async def scrape(client: GatewayClient) -> None:
    reply = await client.http.get("/metrics")
    assert reply.status_code == 200, reply.status_code


async def run(rounds: int, requests: int, first: int, scale: float, workdir: Path) -> str:
    token = mint(BENCH_SECRET, subject="bench", roles=["admin"], ttl=3600)
    samples: dict[str, list[float]] = {mode: [] for mode in MODES}
    files = workdir / "metrics"
    files.mkdir()
    async with emulations(workdir, scale=scale) as emu, contextlib.AsyncExitStack() as stack:
        config = gateway_config(emu, free_port(), workdir)
        clients: dict[str, GatewayClient] = {}
        for mode in MODES:
            with store_for(mode, files):
                app = await stack.enter_async_context(gateway(config, mode != "off"))
                transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
                http = await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=60)
                )
                clients[mode] = GatewayClient(http, token=token)
                await cpu_per_request(clients[mode], first, 3)  # warm: tokens, pools, caches
        for _ in range(rounds):
            for mode, client in clients.items():
                after = scrape if mode == "on, scraped after every request" else None
                with store_for(mode, files):
                    cpu = await cpu_per_request(client, first, requests, after=after)
                samples[mode].append(cpu)
    return report(samples, title(first, scale, rounds, requests))


def report(samples: dict[str, list[float]], heading: str) -> str:
    return "\n".join([heading, "", *ratio_table(samples, "metrics")])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.metrics", description=__doc__)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--first", type=int, default=50, help="orders per W2 request")
    parser.add_argument("--scale", type=float, default=0.2, help="seed scale of the emulations")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="crossdock-bench-metrics-") as folder:
        text = asyncio.run(run(args.rounds, args.requests, args.first, args.scale, Path(folder)))
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
