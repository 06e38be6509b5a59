"""`python -m bench.export [--sizes 10000 100000] [--data-dir DIR]`: the view export benchmark.

Exports the `order_lines` view for seeds giving about `size` order lines, three ways, each
in a fresh gateway process (so `ru_maxrss` is that run's own peak):

- stream: `GET /views/order_lines.csv`, read as it streams (at most two pages in memory);
- parquet: `GET /views/order_lines.parquet`, streamed the same way (typed columns, a row
          group per 10,000 rows held as Arrow batches), written to a file as it arrives;
          its rows are read from the file's footer;
- whole:  the client pages the same GraphQL document through `/graphql`, keeps the whole
          result, then flattens it and writes the CSV (what a script without views does).

The gateway is the production app (`gateway.wiring.assemble`: access control, audit log,
operation limits, the shipped views). Both emulations run in another process
(`bench.harness.emulations`), seeded on first use under the data directory (kept between
runs); backend calls are read from their counters.
Prints a Markdown table: rows, seconds, rows/s, backend calls, peak RSS of the gateway process.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from bench.harness import emulations
from gateway.auth.tokens import mint
from gateway.runtime import freeze_startup, loop_factory, tune_gc
from gateway.settings import parse_settings
from gateway.views import load_views
from gateway.views.encode import csv_cell, defuse_formula
from gateway.views.flatten import Flattener
from gateway.wiring import assemble, build_backends

SECRET = "bench-export-secret-0123456789-0123456789"
LINES_PER_SCALE = 6000  # the seed writes 2,000 orders of 1-5 lines (3 on average) per 1.0
VIEW = "order_lines"
MODES = ("stream", "parquet", "whole")
REPEAT = 3
PATHS = {"stream": "csv", "parquet": "parquet"}  # the streamed modes and their formats


@dataclass(frozen=True)
class Result:
    """One export run."""

    size: int
    mode: str
    rows: int
    seconds: float
    calls: int
    peak_rss_mb: float
    runs: int = 1  # runs this result is the median of

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def _app(zoho_url: str, erp_url: str, audit_log: Path) -> Starlette:
    """The production gateway (`gateway.wiring.assemble`, as `crossdock serve` builds it):
    access control, audit, operation limits and the shipped views, with default settings
    but for the rate limits (off, see below)."""
    settings = parse_settings(
        {
            "crm": {
                "accounts_url": zoho_url,
                "base_url": zoho_url,
                "client_id": "crossdock-demo",
                "client_secret": "crossdock-demo-secret",
                "refresh_token": "crossdock-demo-refresh",
            },
            "scm": {
                "base_url": erp_url,
                "api_key": "crossdock-demo",
                "api_secret": "crossdock-demo-secret",
            },
            "auth": {"hs256_secret": SECRET},
            "policy": {"audit_log": str(audit_log)},
            "saga": {"enabled": False},  # the export only reads; the saga needs a journal key
            # "whole" pages through /graphql hundreds of times a second, as one subject: the
            # per-subject rate limit (20/s by default) would refuse it; the stream is one request
            "rate_limits": {"enabled": False},
        }
    )
    backends = build_backends(settings)
    return assemble(settings, crm=backends.crm, scm=backends.scm, on_shutdown=[backends.aclose])


def _headers() -> list[tuple[bytes, bytes]]:
    bearer = mint(SECRET, subject="bench", roles=["admin"], ttl=86400)
    return [(b"host", b"gateway.bench"), (b"authorization", f"Bearer {bearer}".encode())]


async def _stream(app: Starlette, fmt: str = "csv") -> int:
    """Drive GET /views/order_lines.{fmt} through the ASGI app: CSV bytes are counted and
    dropped as they come, Parquet bytes go to a file whose footer gives the rows."""
    path = f"/views/{VIEW}.{fmt}"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": _headers(),
        "client": ("127.0.0.1", 1),
        "server": None,
    }
    lines, status, sent, never = 0, 0, False, asyncio.Event()
    sink = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal lines, status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif fmt == "csv":
            lines += message.get("body", b"").count(b"\r\n")
        else:
            sink.write(message.get("body", b""))

    with sink:
        await app(scope, receive, send)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        if fmt == "csv":
            return lines - 1  # the header row
        import pyarrow.parquet as pq

        sink.seek(0)
        rows: int = pq.ParquetFile(sink).metadata.num_rows
        return rows


async def _whole(app: Starlette) -> int:
    """Page the view's document through /graphql, keep it all, then flatten and write CSV."""
    view = load_views(None).get(VIEW)
    assert view is not None
    headers = {k.decode(): v.decode() for k, v in _headers()}
    transport = httpx.ASGITransport(app=app)
    nodes: list[Any] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://gw", timeout=600) as c:
        after = None
        while True:
            body = {"query": view.document, "variables": {"first": view.page_size, "after": after}}
            reply = await c.post("/graphql", json=body, headers=headers)
            connection = reply.json()["data"][view.connection]
            nodes += connection["nodes"]
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
    rows = Flattener(view, view.columns).rows({view.connection: {"nodes": nodes}})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in view.columns])
    writer.writerows([defuse_formula(csv_cell(v)) for v in row] for row in rows)
    return len(rows)


def child(mode: str, zoho_url: str, erp_url: str) -> dict[str, Any]:
    """One measured run in this (fresh) process, tuned as `crossdock serve` tunes it (its
    collector settings, startup objects frozen, uvloop's event loop)."""
    tune_gc()
    with (
        tempfile.TemporaryDirectory() as workdir,
        asyncio.Runner(loop_factory=loop_factory()) as runner,
    ):
        app = _app(zoho_url, erp_url, Path(workdir) / "audit.log")
        freeze_startup()
        started = time.perf_counter()
        job = _whole(app) if mode == "whole" else _stream(app, PATHS[mode])
        rows = runner.run(job)
        seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"rows": rows, "seconds": seconds, "peak_rss_mb": peak}


def _run_child(mode: str, zoho_url: str, erp_url: str) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.export", "--child", mode, zoho_url, erp_url]
    done = subprocess.run(argv, capture_output=True, check=False, text=True)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"bench child {mode} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def measure_size(size: int, data_dir: Path, *, repeat: int = REPEAT) -> list[Result]:
    """Each mode `repeat` times, each run in a fresh process; the median run by rows/s is
    reported (this machine is shared: single runs of the same export vary by ~15 %)."""
    scale = round(size / LINES_PER_SCALE, 3)
    results = []
    async with emulations(data_dir / f"scale-{scale}", scale=scale) as emu:
        for mode in MODES:
            runs = []
            for _ in range(repeat):
                await emu.reset_calls()
                run = await asyncio.to_thread(_run_child, mode, emu.zoho_url, emu.erp_url)
                calls = await emu.calls()
                rows, seconds, peak = run["rows"], run["seconds"], run["peak_rss_mb"]
                runs.append(Result(size, mode, rows, seconds, calls, peak))
            results.append(median(runs))
    return results


def median(runs: list[Result]) -> Result:
    """The run in the middle by rows/s, with the median peak RSS of all runs."""
    middle = sorted(runs, key=lambda r: r.rows_per_s)[len(runs) // 2]
    peaks = sorted(r.peak_rss_mb for r in runs)
    return replace(middle, peak_rss_mb=peaks[len(peaks) // 2], runs=len(runs))


def table(results: list[Result]) -> str:
    lines = [
        "| order lines (target) | mode | rows | seconds | rows/s | backend calls | peak RSS MB "
        "| runs (median) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.size:,} | {r.mode} | {r.rows:,} | {r.seconds:.1f} | {r.rows_per_s:,.0f} "
            f"| {r.calls:,} | {r.peak_rss_mb:.1f} | {r.runs} |"
        )
    streams = [r for r in results if r.mode == "stream"]
    if len(streams) >= 2:
        small, large = streams[0], streams[-1]
        growth = (large.peak_rss_mb / small.peak_rss_mb - 1) * 100
        lines.append("")
        lines.append(
            f"Streamed peak RSS at {large.size:,} vs {small.size:,} lines: {growth:+.1f} % "
            f"(target: within 10 %)."
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--data-dir", type=Path, default=None, help="seeded data (kept)")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "ZOHO_URL", "ERP_URL"))
    parser.add_argument("--repeat", type=int, default=REPEAT, help="runs per size and mode")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    data_dir = args.data_dir or Path(tempfile.gettempdir()) / "crossdock-bench-export"
    results: list[Result] = []
    for size in args.sizes:
        print(f"exporting ~{size:,} order lines ...", file=sys.stderr, flush=True)
        results += asyncio.run(measure_size(size, data_dir, repeat=max(1, args.repeat)))
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
