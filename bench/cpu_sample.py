"""Where the gateway's CPU goes, sampled: `python -m bench.cpu_sample [--workload W] [-h]`.

cProfile slows every Python call, so call-heavy code looks costlier than it is. This samples
instead: in the gateway process, SIGPROF every 1 ms of process CPU time records the Python
stack, weighted by the CPU time used since the previous sample (a long C call, such as
decoding a large JSON body, delays the handler and would otherwise count once). The sampled
total is printed beside `/proc`'s utime + stime for the same requests: they should agree.

The gateway runs as `python -m bench.cpu_sample --serve SAMPLES -- serve --config FILE` (this
module installs the sampler, then runs `python -m gateway`): SIGUSR1 starts sampling after
the warm-up, SIGUSR2 writes the samples as JSON. Workloads: `peer` (the Node peer's W2: 50
orders, number, status, total, customer, lines → sku and stock, shipments), `w1` and `w2`
(`bench.workloads`), at 0 ms of backend latency, one request at a time or `--concurrency N`
at once. The report also gives the CPU spent in Python's cyclic garbage collector (timed by
`gc.callbacks`), which the samples spread over whatever code allocated when it ran.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import runpy
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import httpx

from bench.__main__ import _pick_order
from bench.floor import FloorClient
from bench.harness import (
    BENCH_SECRET,
    ProcessUsage,
    _spawn,
    _stop,
    _wait_until_up,
    emulations,
    free_port,
    gateway_config,
    measure,
)
from bench.workloads import GatewayClient, Json, Workload, order_list, order_page
from gateway.tokens import mint

Frame = tuple[str, str]  # (file, function)

PEER_W2 = """query W2($first: Int!) { orders(first: $first) { nodes {
  id number status total { amount currency } customer { id name }
  lines { sku quantity product { sku stock { warehouse { id } onHand projected } } }
  shipments { id carrier status } } } }"""

# Areas by the innermost frame that names one (first rule that matches, leaf upwards).
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "backend calls: HTTP client and JSON decoding",
        (
            *("/httpx/", "/httpcore/", "/h11/", "/anyio/", "/aiohttp/", "/yarl/", "/multidict/"),
            *("resolvers/http.py", "transport.py", "/wire.py"),
        ),
    ),
    ("connectors: backend rows to canonical records", ("/resolvers/",)),
    ("loaders (aiodataloader)", ("/aiodataloader",)),
    ("GraphQL execution: batched executor and schema types", ("/schema/",)),
    ("access policy", ("/gateway/access/",)),
    ("authentication (JWT)", ("/gateway/auth/", "/jwt/")),
    ("limits, cost, rate limit", ("/gateway/protection/",)),
    ("graphql-core: parse, validate, other", ("/graphql/",)),
    ("strawberry: HTTP view, result, response JSON", ("/strawberry/",)),
    (
        "HTTP server, middleware, access log",
        ("/uvicorn/", "/starlette/", "/gateway/", "/logging/"),
    ),
)


class Sampler:
    """CPU-time-weighted stack samples of the main thread, between SIGUSR1 and SIGUSR2."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.weights: defaultdict[tuple[Frame, ...], float] = defaultdict(float)
        self.last = 0.0
        self.sampling = False
        self.gc_started = 0.0
        self.gc_s = 0.0
        self.gc_runs = 0

    def install(self) -> None:
        gc.callbacks.append(self._collecting)
        signal.signal(signal.SIGPROF, self._sample)
        signal.signal(signal.SIGUSR1, self._start)
        signal.signal(signal.SIGUSR2, self._write)

    def _sample(self, _signum: int, frame: FrameType | None) -> None:
        now = time.process_time()
        weight, self.last = now - self.last, now
        stack: list[Frame] = []
        while frame is not None:
            stack.append((frame.f_code.co_filename, frame.f_code.co_name))
            frame = frame.f_back
        self.weights[tuple(stack)] += weight

    def _collecting(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self.gc_started = time.process_time()
        elif self.sampling:
            self.gc_s += time.process_time() - self.gc_started
            self.gc_runs += 1

    def _start(self, _signum: int, _frame: FrameType | None) -> None:
        self.weights.clear()
        self.gc_s, self.gc_runs, self.sampling = 0.0, 0, True
        self.last = time.process_time()
        signal.setitimer(signal.ITIMER_PROF, 0.001, 0.001)

    def _write(self, _signum: int, _frame: FrameType | None) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        self.sampling = False
        rows = [[list(map(list, stack)), weight] for stack, weight in self.weights.items()]
        gc_time = {"seconds": self.gc_s, "runs": self.gc_runs}
        self.out.write_text(json.dumps({"samples": rows, "gc": gc_time}), encoding="utf-8")


def area(stack: Sequence[Sequence[str]]) -> str:
    for filename, _ in stack:
        for name, markers in AREAS:
            if any(marker in filename for marker in markers):
                return name
    return "event loop and other"


def report(samples: Path, requests: int, proc_cpu_s: float) -> str:
    """The shares of sampled CPU by area, and the leaf functions that cost most."""
    written = json.loads(samples.read_text(encoding="utf-8"))
    rows: list[tuple[list[list[str]], float]] = written["samples"]
    gc_s, gc_runs = written["gc"]["seconds"], written["gc"]["runs"]
    total = sum(weight for _, weight in rows) or 1.0
    areas: defaultdict[str, float] = defaultdict(float)
    leaves: defaultdict[str, float] = defaultdict(float)
    for stack, weight in rows:
        areas[area(stack)] += weight
        leaves[f"{Path(stack[0][0]).name}:{stack[0][1]}"] += weight
    lines = [
        f"CPU per request: {1000 * total / requests:.1f} ms sampled, "
        f"{1000 * proc_cpu_s / requests:.1f} ms from /proc ({requests} requests)",
        f"Cyclic garbage collection: {100 * gc_s / total:.1f} % of it "
        f"({gc_runs} collections in {requests} requests)",
        "",
        "| area | share of CPU |",
        "|---|---|",
        *(f"| {name} | {100 * weight / total:.1f} % |" for name, weight in _ranked(areas)),
        "",
        "| leaf function | share of CPU |",
        "|---|---|",
        *(f"| `{name}` | {100 * weight / total:.1f} % |" for name, weight in _ranked(leaves)[:15]),
    ]
    return "\n".join(lines)


def _ranked(weights: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(weights.items(), key=lambda item: -item[1])


async def _no_floor(_client: FloorClient) -> Json:
    raise NotImplementedError("the peer's W2 has no floor")


async def sample(workload: str, requests: int, concurrency: int, workdir: Path) -> str:
    token = mint(BENCH_SECRET, subject="bench", roles=["admin"], ttl=3600)
    async with emulations(workdir / "data", scale=1.0) as emu:
        chosen = await _workload(workload, emu.zoho_url, emu.erp_url)
        port, samples = free_port(), workdir / "samples.json"
        config = workdir / "gateway.toml"
        config.write_text(gateway_config(emu, port, workdir), encoding="utf-8")
        argv = ["-m", "bench.cpu_sample", "--serve", str(samples), "--", "serve"]
        proc = _spawn([*argv, "--config", str(config)], workdir / "gateway.log")
        try:
            url = f"http://127.0.0.1:{port}"
            await _wait_until_up(f"{url}/healthz", proc, "the gateway", workdir / "gateway.log")
            used = await _load(url, token, chosen, (requests, concurrency), proc)
        finally:
            _stop(proc)
    return report(samples, requests, used)


async def _workload(name: str, zoho_url: str, erp_url: str) -> Workload:
    if name == "peer":
        return Workload("peer W2", PEER_W2, {"first": 50}, _no_floor)
    if name == "w2":
        return order_list(50)
    async with (
        httpx.AsyncClient(base_url=zoho_url) as zoho,
        httpx.AsyncClient(base_url=erp_url) as erp,
    ):
        floor = FloorClient(zoho, erp)
        await floor.start()
        return order_page(await _pick_order(floor))


async def _load(
    url: str,
    token: str,
    workload: Workload,
    load: tuple[int, int],
    proc: subprocess.Popen[bytes],
) -> float:
    """The gateway's CPU seconds for `requests` runs of `workload`, `concurrency` at once."""
    requests, concurrency = load
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits) as http:
        client = GatewayClient(http, token=token)
        await measure(
            lambda: client.run(workload), requests=10, concurrency=concurrency, budget_s=60
        )
        proc.send_signal(signal.SIGUSR1)
        await asyncio.sleep(0.2)
        before = ProcessUsage.of(proc.pid).cpu_s
        await measure(
            lambda: client.run(workload), requests=requests, concurrency=concurrency, budget_s=600
        )
        used = ProcessUsage.of(proc.pid).cpu_s - before
        proc.send_signal(signal.SIGUSR2)
        await asyncio.sleep(1.0)
    return used


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu_sample", description=__doc__)
    parser.add_argument("--workload", choices=("peer", "w1", "w2"), default="peer")
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=1, help="requests at once")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.serve is not None:  # inside the gateway process
        Sampler(args.serve).install()
        sys.argv = ["gateway", *[a for a in rest if a != "--"]]
        runpy.run_module("gateway", run_name="__main__", alter_sys=True)
        return 0
    with tempfile.TemporaryDirectory(prefix="crossdock-cpu-sample-") as tmp:
        print(asyncio.run(sample(args.workload, args.requests, args.concurrency, Path(tmp))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
