"""`python -m bench.reconcile [--scale 1 --scale 10] [--data-dir DIR]`: one full reconciliation
run (`crossdock reconcile --json`, every category) against the emulations in a child process,
per seed scale: seconds, backend calls (counted by the CLI's HTTP clients and, as a check, by
the emulations), peak RSS of the CLI process, records read and findings. Prints a Markdown
table for the README. Scale 1 is 2,000 orders, scale 10 is 20,000 (seeded once per data
directory, which is kept).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import Emulations, emulations, free_port, gateway_config


@dataclass(frozen=True)
class Result:
    scale: float
    orders: int
    records: int
    seconds: float
    calls: int
    crm_calls: int
    erp_calls: int
    served: int  # requests the emulations counted
    peak_rss_mb: float
    findings: int


async def measure(scale: float, data_dir: Path) -> Result:
    """Seed (once) and serve the emulations at `scale`, then run the CLI against them."""
    async with emulations(data_dir, scale=scale) as emu:
        config = _config(emu, data_dir)
        await emu.reset_calls()
        body = await _run_cli(config)
        served = await emu.calls()
    calls = body["backend_calls"]
    read = body["read"]
    return Result(
        scale=scale,
        orders=int(read.get("crm orders", 0)),
        records=sum(int(n) for n in read.values()),
        seconds=float(body["seconds"]),
        calls=int(calls["total"]),
        crm_calls=int(calls.get("crm", 0)),
        erp_calls=int(calls.get("erp", 0)),
        served=served,
        peak_rss_mb=float(body["peak_rss_mb"]),
        findings=len(body["findings"]),
    )


def _config(emu: Emulations, data_dir: Path) -> Path:
    """The bench gateway's settings (no order process) with a reconcile store beside them."""
    config = data_dir / "reconcile.toml"
    text = gateway_config(emu, free_port(), data_dir)
    config.write_text(text + f'\n[reconcile]\nstore_path = "{data_dir / "reconcile.sqlite"}"\n')
    return config


async def _run_cli(config: Path) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "reconcile",
        "--config",
        str(config),
        "--json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"crossdock reconcile exited {proc.returncode}: {err.decode()[-500:]}")
    body: dict[str, Any] = json.loads(out)
    return body


def table(results: Sequence[Result]) -> str:
    lines = [
        "| seed scale | orders | records read | seconds | backend calls (CRM + ERP) "
        "| served by the emulations | peak RSS | findings |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.scale:g} | {r.orders:,} | {r.records:,} | {r.seconds:.1f} | {r.calls:,} "
            f"({r.crm_calls:,} + {r.erp_calls:,}) | {r.served:,} | {r.peak_rss_mb:.0f} MB "
            f"| {r.findings} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reconcile", description=__doc__)
    parser.add_argument("--scale", type=float, action="append", help="repeatable; default 1 and 10")
    parser.add_argument("--data-dir", type=Path, default=None, help="seeded data (kept)")
    args = parser.parse_args(argv)
    base = args.data_dir or Path(tempfile.gettempdir()) / "crossdock-bench-reconcile"
    results = []
    for scale in args.scale or [1.0, 10.0]:
        print(f"reconciling seed scale {scale:g} ...", file=sys.stderr, flush=True)
        data_dir = base / f"scale-{scale:g}"
        data_dir.mkdir(parents=True, exist_ok=True)
        results.append(asyncio.run(measure(scale, data_dir)))
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{when}, {platform.machine()}, Python {platform.python_version()}\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
