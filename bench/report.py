"""Turning measurements into the published Markdown: the figures table, the target checks and
a summary of where a profiled gateway spends its CPU."""

from __future__ import annotations

import pstats
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Where a function lives → what it is part of; first match wins (paths as cProfile records them).
AREAS: tuple[tuple[str, str], ...] = (
    ("/graphql/language/", "graphql-core: parse"),
    ("/graphql/validation/", "graphql-core: validate"),
    ("/graphql/execution/", "graphql-core: execute"),
    ("/graphql/", "graphql-core: other"),
    ("/strawberry/", "strawberry"),
    ("/aiohttp/", "aiohttp (backend client)"),
    ("/yarl/", "aiohttp (backend client)"),  # aiohttp's URLs
    ("/multidict/", "aiohttp (backend client)"),  # aiohttp's headers
    ("/resolvers/fast_transport.py", "aiohttp (backend client)"),  # the port's adapter
    ("/httpx/", 'httpx (http_client = "httpx", JWKS, webhooks)'),
    ("/httpcore/", 'httpx (http_client = "httpx", JWKS, webhooks)'),
    ("/h11/", "h11 (HTTP parsing)"),
    ("/uvicorn/", "uvicorn"),
    ("/starlette/", "starlette"),
    ("/aiodataloader", "aiodataloader"),
    ("/resolvers/", "crossdock resolvers"),
    ("/schema/", "crossdock schema"),
    ("/gateway/", "crossdock gateway"),
    ("/json/", "json"),
    ("/asyncio/", "asyncio"),
    ("/jwt/", "pyjwt"),
    ("/anyio/", "starlette"),
    ("<frozen importlib", "startup: imports (once per process)"),
)
# Waiting for sockets is idle time, not work.
IDLE = frozenset({"<method 'poll' of 'select.epoll' objects>", "<built-in method select.select>"})
STARTUP = frozenset(
    {
        "<built-in method builtins.exec>",
        "<built-in method builtins.compile>",
        "<built-in method marshal.loads>",
        "<built-in method posix.stat>",
    }
)


@dataclass(frozen=True)
class Row:
    """One line of the figures table (ms and MB; None where the figure does not apply)."""

    workload: str
    latency_ms: int
    system: str
    calls: float
    p50_ms: float
    p95_ms: float
    rps_1: float
    rps_16: float | None
    cpu_ms: float | None
    rss_mb: float | None
    ratio: float | None


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def table(rows: Sequence[Row]) -> str:
    head = (
        "| workload | backend latency | system | backend calls/req | p50 ms | p95 ms "
        "| req/s c=1 | req/s c=16 | gateway CPU ms/req | gateway peak RSS MB | p50 / floor |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        lines.append(
            f"| {r.workload} | {r.latency_ms} ms | {r.system} | {_num(r.calls)} | "
            f"{_num(r.p50_ms)} | {_num(r.p95_ms)} | {_num(r.rps_1)} | {_num(r.rps_16)} | "
            f"{_num(r.cpu_ms)} | {_num(r.rss_mb, 0)} | {_num(r.ratio, 2)} |"
        )
    return "\n".join(lines)


def targets(rows: Sequence[Row], *, flat_calls: bool = True) -> str:
    """The targets, checked against this run's rows. `flat_calls`: W2's calls must not grow
    with the page size (Zoho pages 200 orders and embeds their lines; Fxiaoke pages 100 rows
    and keeps lines apart, so there they grow, for the floor too, and only the floor's count
    is the target)."""
    gateway = [r for r in rows if r.system == "gateway"]
    lines = []
    for latency in sorted({r.latency_ms for r in gateway}):
        w2 = [r for r in gateway if r.latency_ms == latency and r.workload.startswith("W2")]
        floor = [r.calls for r in rows if r.system == "floor" and r in _peers(rows, w2)]
        listed = ", ".join(f"{r.workload.split()[1]}: {r.calls:.0f}" for r in w2)
        floors = ", ".join(f"{c:.0f}" for c in floor)
        if flat_calls:
            same = len({r.calls for r in w2}) == 1
            lines.append(
                f"- W2 backend calls identical for every page size at {latency} ms: "
                f"{'yes' if same else 'NO'} ({listed}; floor: {floors})"
            )
        floor_of = {
            r.workload: r.calls for r in rows if r.system == "floor" and r in _peers(rows, w2)
        }
        within = all(r.calls <= floor_of.get(r.workload, r.calls) for r in w2)
        lines.append(
            f"- W2 backend calls at most the floor's at {latency} ms: "
            f"{'yes' if within else 'NO'} ({listed}; floor: {floors})"
        )
    for r in gateway:
        if r.latency_ms == 20 and r.ratio is not None:
            verdict = "met" if r.ratio <= 1.3 else "MISSED"
            lines.append(
                f"- {r.workload} at 20 ms: p50 {r.ratio:.2f}× the floor (≤ 1.30×: {verdict})"
            )
    return "\n".join(lines)


def _peers(rows: Sequence[Row], of: Sequence[Row]) -> list[Row]:
    """The rows measured on the same workloads and latency as `of`."""
    keys = {(r.workload, r.latency_ms) for r in of}
    return [r for r in rows if (r.workload, r.latency_ms) in keys]


def _area(filename: str, func: str) -> str:
    if func in STARTUP:
        return "startup: imports (once per process)"
    if filename == "~":
        return "C builtins (called from all of the above)"
    return next((area for marker, area in AREAS if marker in filename), "other Python")


def profile_summary(path: Path, *, requests: int, top: int = 15) -> str:
    """Own CPU time by area and the costliest functions, per request, from a cProfile dump.

    Time in `epoll.poll` (the event loop waiting for sockets) is idle, not work, and left out;
    cProfile counts each resumption of a coroutine as a call, so calls/request is exact only
    for plain functions.
    """
    stats = pstats.Stats(str(path))
    entries = stats.stats  # type: ignore[attr-defined]  # {(file, line, func): (cc, nc, tt, ct, callers)}
    by_area: dict[str, float] = defaultdict(float)
    functions: list[tuple[float, int, str]] = []
    for (filename, line, func), (_, calls, own, _cum, _) in entries.items():
        if func in IDLE:
            continue
        by_area[_area(filename, func)] += own
        where = f"{Path(filename).parent.name}/{Path(filename).name}:{line}" if line else "builtin"
        functions.append((own, calls, f"`{func}` ({where})"))
    total = sum(by_area.values()) or 1.0
    fields = sum(c for own, c, name in functions if name.startswith("`execute_field`"))
    per_field = (
        f" GraphQL fields resolved: {fields / requests:.0f}/request, "
        f"{1e6 * total / fields:.0f} µs of busy CPU each."
        if fields
        else ""
    )
    lines = [
        f"Busy CPU under cProfile: {1000 * total / requests:.1f} ms/request "
        f"({requests} requests; cProfile inflates absolute times, shares hold).{per_field}",
        "",
        "| area | share of busy CPU |",
        "|---|---|",
    ]
    for area, own in sorted(by_area.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {area} | {100 * own / total:.1f} % |")
    lines += ["", "| function (own time) | calls/request | share |", "|---|---|---|"]
    for own, calls, name in sorted(functions, reverse=True)[:top]:
        lines.append(f"| {name} | {calls / requests:.0f} | {100 * own / total:.1f} % |")
    return "\n".join(lines)
