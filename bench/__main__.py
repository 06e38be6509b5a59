"""`python -m bench [--quick] [--no-profile] [--scale S] [--crm zoho|fxiaoke|both] [--out F]
[--export N ... | --no-export] [--peer [DIR]]`.

For each CRM asked (both by default: Zoho CRM, then Fxiaoke, each with its own ERPNext),
starts the emulations (seeded) and the gateway as processes on loopback, checks that the
gateway and that CRM's floor client return the same JSON for every workload, then measures each
workload at 0 ms and 20 ms of backend latency for three systems: the gateway, the floor, and
the floor with batching off; then W3, the BI export (`bench.export`; 10k and 100k order
lines, the median of 3 runs each; 10k once with --quick). Prints a Markdown report (date,
machine, command, figures, target checks and, unless --no-profile, where a profiled gateway
spends its CPU at 0 ms). With --peer, then the side-by-side run against the Node peer
(bench.peer), when its runner, node and npm are on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench.floor import Floor, FloorClient
from bench.floor_fxiaoke import FxiaokeFloor
from bench.harness import (
    BENCH_SECRET,
    CRMS,
    BenchError,
    Emulations,
    Gateway,
    emulations,
    gateway,
    measure,
)
from bench.peer import side_by_side
from bench.report import Row, profile_summary, table, targets
from bench.workloads import GatewayClient, Workload, WorkloadError, mismatch, order_list, order_page
from gateway.auth.tokens import mint

Call = Callable[[], Awaitable[object]]
W3_ROWS_PER_S = 20_000
W3_RSS_GROWTH = 0.10
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


@dataclass(frozen=True)
class Plan:
    """How much load each measurement gets (a phase stops at its count or its time budget)."""

    requests_c1: int = 40
    requests_c16: int = 160
    budget_s: float = 3.0
    warmup: int = 3
    latencies: tuple[int, ...] = (0, 20)
    sizes: tuple[int, ...] = (10, 50, 200)
    profile_requests: int = 40


FULL = Plan()
QUICK = Plan(requests_c1=10, requests_c16=48, budget_s=1.0, warmup=1, profile_requests=0)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def _cell(emu: Emulations, call: Call, plan: Plan, *, gw: Gateway | None, c16: bool) -> Row:
    """One workload on one system: calls, latency and CPU at c=1, throughput at c=16, RSS."""
    for _ in range(plan.warmup):
        await call()
    await emu.reset_calls()
    before = gw.usage() if gw else None
    single = await measure(call, requests=plan.requests_c1, concurrency=1, budget_s=plan.budget_s)
    after = gw.usage() if gw else None
    calls = await emu.calls() / single.requests
    many = None
    if c16:
        many = await measure(
            call, requests=plan.requests_c16, concurrency=16, budget_s=plan.budget_s
        )
    cpu_ms = rss = None
    if gw and before and after:
        cpu_ms = 1000 * (after.cpu_s - before.cpu_s) / single.requests
        rss = gw.usage().peak_rss_mb
    return Row(
        workload="",
        latency_ms=0,
        system="",
        calls=calls,
        p50_ms=1000 * single.percentile(0.5),
        p95_ms=1000 * single.percentile(0.95),
        rps_1=single.rps,
        rps_16=many.rps if many else None,
        cpu_ms=cpu_ms,
        rss_mb=rss,
        ratio=None,
    )


async def _pick_order(floor: Floor) -> str:
    """W1's order: a recent one with several lines and a shipment, so every join has work."""
    for order in await floor.order_list(200):
        if order["shipments"] and len(order["lines"]) > 1:
            return str(order["id"])
    raise WorkloadError("no order with shipments and several lines; seed a larger scale")


async def _verify(
    workloads: Sequence[Workload], gw: GatewayClient, floors: Sequence[Floor]
) -> None:
    for workload in workloads:
        expected = await gw.run(workload)
        for floor in floors:
            differs = mismatch(expected, await workload.floor(floor))
            if differs:
                raise WorkloadError(
                    f"{workload.name}: the floor differs from the gateway at {differs}"
                )


async def _measure_all(
    emu: Emulations,
    gw: Gateway,
    client: GatewayClient,
    floors: tuple[Floor, Floor],
    workloads: Sequence[Workload],
    plan: Plan,
) -> list[Row]:
    rows: list[Row] = []
    for latency in plan.latencies:
        await emu.set_latency(latency)
        for w in workloads:
            progress(f"  {w.name} at {latency} ms")
            floor = await _cell(emu, partial(w.floor, floors[0]), plan, gw=None, c16=True)
            mine = await _cell(emu, partial(client.run, w), plan, gw=gw, c16=True)
            off = await _cell(emu, partial(w.floor, floors[1]), plan, gw=None, c16=False)
            named = partial(replace, workload=w.name, latency_ms=latency)
            rows.append(named(mine, system="gateway", ratio=mine.p50_ms / floor.p50_ms))
            rows.append(named(floor, system="floor"))
            rows.append(named(off, system="batching off"))
    await emu.set_latency(0)
    return rows


async def _profile(
    emu: Emulations, workdir: Path, workloads: Sequence[Workload], plan: Plan, token: str
) -> str:
    dump = workdir / "gateway.prof"
    profiled = [w for w in workloads if w.name.startswith("W1") or "(50)" in w.name]
    async with gateway(emu, workdir / "profiled", profile_to=dump) as gw, _http(gw.url) as http:
        client = GatewayClient(http, token=token)
        for w in profiled:
            call = partial(client.run, w)
            await measure(call, requests=plan.profile_requests, concurrency=1, budget_s=60)
    return profile_summary(dump, requests=plan.profile_requests * len(profiled))


def _http(base_url: str = "") -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, limits=LIMITS, timeout=60.0)


def _floors(crm: str, crm_http: httpx.AsyncClient, erp: httpx.AsyncClient) -> tuple[Floor, Floor]:
    """The CRM's floor client, batched and one call per key."""
    kind = FxiaokeFloor if crm == "fxiaoke" else FloorClient
    return kind(crm_http, erp), kind(crm_http, erp, batching=False)


async def run(plan: Plan, workdir: Path, *, scale: float, profile: bool, crm: str = "zoho") -> str:
    """The report of one CRM's run (with its ERPNext): tables, targets, profile."""
    token = mint(BENCH_SECRET, subject="bench", roles=["admin"], ttl=6 * 3600)
    workdir = workdir / crm
    progress(f"starting the {crm} and ERPNext emulations (scale {scale}) in {workdir}")
    async with (
        emulations(workdir / "data", scale=scale, crm=crm) as emu,
        _http(emu.crm_url) as crm_http,
        _http(emu.erp_url) as erp,
    ):
        floors = _floors(crm, crm_http, erp)
        for floor in floors:
            await floor.start()
        workloads = [order_page(await _pick_order(floors[0])), *(order_list(n) for n in plan.sizes)]
        async with gateway(emu, workdir / "gateway") as gw, _http(gw.url) as http:
            client = GatewayClient(http, token=token)
            progress("checking that the gateway and the floor return the same JSON")
            await _verify(workloads, client, floors)
            rows = await _measure_all(emu, gw, client, floors, workloads, plan)
        summary = ""
        if profile and plan.profile_requests:
            progress("profiling the gateway at 0 ms")
            summary = await _profile(emu, workdir, workloads, plan, token)
    return _document(rows, summary, scale, crm)


def _machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    names = (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    model = next(names, platform.processor() or "?")
    return f"{len(os.sched_getaffinity(0))} cores ({model}), Python {platform.python_version()}"


CRM_NAMES = {"zoho": "Zoho CRM", "fxiaoke": "Fxiaoke"}
FLOOR_FILES = {"zoho": "bench/floor.py", "fxiaoke": "bench/floor_fxiaoke.py"}


def _document(rows: list[Row], summary: str, scale: float, crm: str) -> str:
    parts = [
        f"## Benchmarks over {CRM_NAMES[crm]} + ERPNext ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"- machine: {_machine()}",
        f"- command: `{shlex.join(['python', '-m', 'bench', *sys.argv[1:]])}` (seed scale {scale})",
        "- calls, p50/p95 and gateway CPU per request at concurrency 1 (CPU from /proc of the"
        " gateway process); peak RSS of the gateway process so far, after the c=16 phase",
        f"- floor: a hand-written client, fewest calls, in parallel ({FLOOR_FILES[crm]}); batching"
        " off: the floor with one backend call per key (the loaders have no switch for it)",
        "",
        table(rows),
        "",
        "### Targets",
        "",
        targets(rows, flat_calls=crm == "zoho"),
    ]
    if summary:
        parts += ["", "### Where the gateway's CPU goes (0 ms, W1 + W2(50), cProfile)", "", summary]
    return "\n".join(parts) + "\n"


def _export(workdir: Path, sizes: Sequence[int], *, quick: bool) -> str:
    """W3, the view export benchmark of `bench.export` (its own processes and seeds)."""
    from bench import export

    repeat = 1 if quick else export.REPEAT

    results: list[export.Result] = []
    for size in sizes:
        progress(f"W3: exporting ~{size:,} order lines")
        results += asyncio.run(export.measure_size(size, workdir / "export", repeat=repeat))
    return (
        "### W3 BI export (`order_lines` view)\n\n"
        + export.table(results)
        + "\n"
        + _export_targets(results)
    )


def _export_targets(results: Sequence[Any]) -> str:
    """W3's targets: 20,000 rows/s streamed, and the largest export's peak RSS within 10 %
    of the smallest's."""
    streamed = sorted((r for r in results if r.mode == "stream"), key=lambda r: r.size)
    if not streamed:
        return ""
    slowest = min(streamed, key=lambda r: r.rows_per_s)
    small, large = streamed[0], streamed[-1]
    growth = large.peak_rss_mb / small.peak_rss_mb - 1 if small.peak_rss_mb else 0.0
    speed = "met" if slowest.rows_per_s >= W3_ROWS_PER_S else "MISSED"
    flat = "met" if growth <= W3_RSS_GROWTH else "MISSED"
    return (
        f"- W3 streamed: slowest {slowest.rows_per_s:,.0f} rows/s at {slowest.rows:,} rows"
        f" (≥ {W3_ROWS_PER_S:,}: {speed})\n"
        f"- W3 memory: peak RSS {large.peak_rss_mb:.1f} MB at {large.rows:,} rows vs"
        f" {small.peak_rss_mb:.1f} MB at {small.rows:,} ({growth:+.1%}; ≤ +10 %: {flat})\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    args.add_argument("--quick", action="store_true", help="fewer requests, no profile (~1 min)")
    args.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    args.add_argument("--scale", type=float, default=1.0, help="seed scale (1.0: 2,000 orders)")
    args.add_argument(
        "--crm",
        choices=(*CRMS, "both"),
        default="both",
        help="the CRM under the gateway for W1/W2 (default: both, one after the other)",
    )
    args.add_argument("--out", type=Path, help="also write the Markdown report to this file")
    args.add_argument(
        "--export",
        type=int,
        nargs="+",
        metavar="LINES",
        default=[10_000, 100_000],
        help="W3 (bench.export) sizes, in order lines (default: 10000 100000)",
    )
    args.add_argument("--no-export", action="store_true", help="skip W3")
    args.add_argument(
        "--peer",
        nargs="?",
        const="",
        metavar="DIR",
        help="also run the side-by-side against the Node peer (its runner in DIR, "
        "$CROSSDOCK_PEER_BENCH or ../shared/peer-bench; needs node and npm)",
    )
    opts = args.parse_args(argv)
    plan = QUICK if opts.quick else FULL
    with tempfile.TemporaryDirectory(prefix="crossdock-bench-") as tmp:
        try:
            crms = CRMS if opts.crm == "both" else (opts.crm,)
            document = "\n".join(
                asyncio.run(
                    run(plan, Path(tmp), scale=opts.scale, profile=not opts.no_profile, crm=crm)
                )
                for crm in crms
            )
            if not opts.no_export:
                sizes = [10_000] if opts.quick and opts.export == [10_000, 100_000] else opts.export
                document += "\n" + _export(Path(tmp), sizes, quick=opts.quick)
            if opts.peer is not None:
                document += "\n" + side_by_side(
                    Path(opts.peer) if opts.peer else None, quick=opts.quick
                )
        except (WorkloadError, BenchError, RuntimeError) as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 1
    print(document)
    if opts.out:
        opts.out.write_text(document, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
