"""`python -m bench.tracing [--rounds R] [--requests N] [--first F] [--scale S]`: what tracing
costs, in gateway CPU per W2 request, off and on, in the same process and minute.

Both emulations run in a child process (`bench.harness.emulations`), so this process's CPU
(`time.process_time`, every thread: the span export thread included) is the gateway's and
its HTTP client's only. Three gateways are assembled in this process over their own
connectors, as `crossdock serve` builds them, and driven over ASGI (no sockets on the
gateway's side): tracing off (the default), tracing on with every span sampled, batched and
handed to an exporter that drops them (the SDK's own cost, not an exporter's), and tracing on
with the console exporter writing to /dev/null (the SDK plus encoding every span). The modes
take turns, N requests each, for R rounds; the medians per request are compared.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import tomllib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import TextIO

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)
from starlette.applications import Starlette

from bench.cost import cpu_per_request, ratio_table, title
from bench.harness import BENCH_SECRET, emulations, free_port, gateway_config
from bench.workloads import GatewayClient
from gateway.auth.tokens import mint
from gateway.observe.tracing import Tracing
from gateway.settings import parse_settings
from gateway.wiring import assemble, build_backends


class Dropping(SpanExporter):
    """Takes every span and keeps none: tracing's cost without an exporter's."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


@contextlib.asynccontextmanager
async def gateway(config: str, tracing: Tracing | None) -> AsyncIterator[Starlette]:
    settings = parse_settings(tomllib.loads(config))
    backends = build_backends(settings)
    app = assemble(
        settings, crm=backends.crm, scm=backends.scm, on_shutdown=[backends.aclose], tracing=tracing
    )
    async with app.router.lifespan_context(app):
        yield app


async def run(
    rounds: int, requests: int, first: int, scale: float, workdir: Path, devnull: TextIO
) -> str:
    dropping = Dropping()
    modes = {
        "off": None,
        "on, spans dropped": Tracing.with_processor(BatchSpanProcessor(dropping)),
        "on, console to /dev/null": Tracing.with_processor(
            BatchSpanProcessor(ConsoleSpanExporter(out=devnull))
        ),
    }
    token = mint(BENCH_SECRET, subject="bench", roles=["admin"], ttl=3600)
    samples: dict[str, list[float]] = {mode: [] for mode in modes}
    async with emulations(workdir, scale=scale) as emu, contextlib.AsyncExitStack() as stack:
        config = gateway_config(emu, free_port(), workdir)
        clients: dict[str, GatewayClient] = {}
        for mode, tracing in modes.items():
            app = await stack.enter_async_context(gateway(config, tracing))
            transport = httpx.ASGITransport(app=app)
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=60)
            )
            clients[mode] = GatewayClient(http, token=token)
            await cpu_per_request(clients[mode], first, 3)  # warm: tokens, pools, caches
        for _ in range(rounds):
            for mode, client in clients.items():
                samples[mode].append(await cpu_per_request(client, first, requests))
    heading = title(first, scale, rounds, requests)
    return report(samples, heading, dropping.spans / (rounds * requests + 3))


def report(samples: dict[str, list[float]], heading: str, spans_per_request: float) -> str:
    lines = [heading, "", *ratio_table(samples, "tracing")]
    lines += ["", f"spans per request (dropped exporter): {spans_per_request:.1f}"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tracing", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--first", type=int, default=50, help="orders per W2 request")
    parser.add_argument("--scale", type=float, default=0.2, help="seed scale of the emulations")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="crossdock-bench-tracing-") as folder,
        open(os.devnull, "w") as devnull,
    ):
        text = asyncio.run(
            run(args.rounds, args.requests, args.first, args.scale, Path(folder), devnull)
        )
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
