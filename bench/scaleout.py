"""`python -m bench.scaleout [--quick]`: W2 with 1 and 2 workers, state embedded vs shared.

Starts the emulations (bench.harness), a PostgreSQL and a Redis of its own
(tests.support.engines), and `crossdock serve` in three set-ups:

    1 worker,  embedded state   (in-process buckets, SQLite journal: the default)
    1 worker,  shared state     (Redis buckets and locks, PostgreSQL journal)
    2 workers, shared state     (SO_REUSEPORT workers)

(2 workers with embedded state refuse to start: that is the point.) Rate limits are on with
rates no caller reaches, so each request pays for its bucket check: in-process, or one Lua
round trip to Redis. Each set-up serves W2 orders(50) at 0 ms backend latency, 16 requests
at a time, and placeOrder (journal, locks, idempotency key; 8 customers, 8 SKUs in turn) 4 at
a time. Then the cost of one state operation at a time (rate-limit check, lock hold and
release, journal writes), in-process/SQLite against Redis/PostgreSQL (fsync on). Prints a Markdown
table: requests per second, p50 and p95. The load generator runs in this process, on the
same 2 cores, so the figures are a comparison, not a capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.harness import (
    BENCH_SECRET,
    Emulations,
    Timing,
    _stop,
    _wait_until_up,
    emulations,
    free_port,
    gateway_config,
    measure,
)
from bench.workloads import GatewayClient, order_list
from gateway.auth.tokens import mint
from resolvers.saga.sealing import Sealer
from tests.support.engines import PostgresServer, RedisServer, missing

LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=64)
PLACE = """mutation($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) { status } }"""
_keys = itertools.count(1)


@dataclass(frozen=True)
class Setup:
    name: str
    workers: int
    shared: bool


SETUPS = (
    Setup("1 worker, embedded", 1, False),
    Setup("1 worker, shared", 1, True),
    Setup("2 workers, shared", 2, True),
)


@dataclass(frozen=True)
class Row:
    setup: str
    workload: str
    timing: Timing

    def markdown(self) -> str:
        t = self.timing
        return (
            f"| {self.setup} | {self.workload} | {t.requests} | {t.rps:.1f} | "
            f"{t.percentile(0.5) * 1000:.1f} | {t.percentile(0.95) * 1000:.1f} |"
        )


def config_text(emu: Emulations, port: int, workdir: Path) -> str:
    """The bench gateway's settings, with rate limits on (unreachable rates) and the order
    process on (journal in workdir, or in PostgreSQL when shared)."""
    text = gateway_config(emu, port, workdir)
    text = text.replace(
        "enabled = false  # the load generator is one caller; a limiter would answer it 429",
        "default = { per_second = 1000000, burst = 1000000 }",
    )
    return text.replace(
        "[saga]\nenabled = false",
        f'[saga]\njournal_path = "{workdir / "orders.sqlite"}"\n'
        "[saga.approval]\nrequire_credit = false",
    )


def launch(
    emu: Emulations, setup: Setup, workdir: Path, state: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`crossdock serve` for `setup` in a child process: the process, its URL, its log."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "gateway.toml"
    config.write_text(config_text(emu, port, workdir), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    env.pop("WEB_CONCURRENCY", None)
    env["CROSSDOCK_JOURNAL_KEY"] = Sealer.generate_key()
    if setup.shared:
        env |= state
    argv = [sys.executable, "-m", "gateway", "serve", "--config", str(config)]
    argv += ["--workers", str(setup.workers)]
    log = workdir / "gateway.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)  # noqa: S603
    return proc, f"http://127.0.0.1:{port}", log


@contextlib.asynccontextmanager
async def serving(
    emu: Emulations, setup: Setup, workdir: Path, state: dict[str, str]
) -> AsyncIterator[str]:
    proc, url, log = launch(emu, setup, workdir, state)
    try:
        await _wait_until_up(f"{url}/healthz", proc, setup.name, log)
        yield url
    finally:
        _stop(proc)


async def _order_inputs(http: httpx.AsyncClient, url: str) -> list[dict[str, object]]:
    """Orders of different customers for different SKUs: the figure is the journal's and the
    locks' cost, not the queue of one customer's or one SKU's lock."""
    query = (
        "{ customers(first: 8) { nodes { id } }"
        " products(first: 50) { nodes { sku active available } } }"
    )
    data = (await http.post(url + "/graphql", json={"query": query})).json()["data"]
    skus = [p["sku"] for p in data["products"]["nodes"] if p["active"] and p["available"]]
    customers = [c["id"] for c in data["customers"]["nodes"]]
    return [
        {"customerId": customer, "lines": [{"sku": sku, "quantity": "1"}]}
        for customer, sku in zip(customers, itertools.cycle(skus), strict=False)
    ]


async def run_setup(
    emu: Emulations, setup: Setup, workdir: Path, state: dict[str, str], requests: int
) -> list[Row]:
    token = mint(BENCH_SECRET, subject="bench", roles=["admin"])
    headers = {"Authorization": f"Bearer {token}", "x-crossdock-csrf": "1"}
    async with (
        serving(emu, setup, workdir, state) as url,
        httpx.AsyncClient(base_url=url, headers=headers, limits=LIMITS, timeout=60) as http,
    ):
        client = GatewayClient(http)
        w2 = order_list(50)
        for _ in range(4):
            await client.run(w2)  # warm-up (connections, tokens, caches)
        rows = [
            Row(
                setup.name,
                "W2 orders(50), c16",
                await _measure(lambda: client.run(w2), requests, 16),
            )
        ]
        orders = itertools.cycle(await _order_inputs(http, url))

        async def place() -> object:
            variables = {"input": next(orders), "key": f"bench-{next(_keys)}"}
            reply = await http.post("/graphql", json={"query": PLACE, "variables": variables})
            body = reply.json()
            if body.get("errors"):
                raise RuntimeError(f"placeOrder failed: {body['errors'][0]['message']}")
            return body

        rows.append(Row(setup.name, "placeOrder, c4", await _measure(place, requests // 2, 4)))
        return rows


async def _measure(
    call: Callable[[], Awaitable[object]], requests: int, concurrency: int
) -> Timing:
    return await measure(call, requests=requests, concurrency=concurrency, budget_s=60.0)


@dataclass(frozen=True)
class Cost:
    what: str
    embedded: Timing
    shared: Timing

    def markdown(self) -> str:
        e, s = self.embedded, self.shared
        return (
            f"| {self.what} | {e.percentile(0.5) * 1e6:.0f} | {e.percentile(0.95) * 1e6:.0f} | "
            f"{s.percentile(0.5) * 1e6:.0f} | {s.percentile(0.95) * 1e6:.0f} |"
        )


async def _each(call: Callable[[], Awaitable[object]], times: int) -> Timing:
    return await measure(call, requests=times, concurrency=1, budget_s=60.0)


async def costs(root: Path, pg: PostgresServer, redis: RedisServer, times: int) -> list[Cost]:
    """What one operation of the state costs, one at a time: in-process vs a round trip."""
    from datetime import UTC as utc
    from datetime import datetime as dt
    from decimal import Decimal

    from gateway.protection.ratelimit import Rate, RateLimiter
    from resolvers.saga.journal import Journal
    from resolvers.saga.locks import LocalLocks
    from resolvers.saga.settings import SagaSettings
    from resolvers.saga.state import LineInput, OrderInput, ProcessState
    from resolvers.state.config import StateSettings
    from resolvers.state.layer import SharedState, open_state

    settings = StateSettings(postgres_url=pg.create_database("costs"), redis_url=redis.url)
    shared = open_state(settings)
    assert isinstance(shared, SharedState)
    buckets = shared.buckets
    assert buckets is not None
    local = RateLimiter({}, default=Rate(1e9, 1e9))
    key = Sealer.generate_key()
    sqlite = Journal(root / "costs.sqlite", Sealer.from_base64(key))
    postgres = shared.open_journal(SagaSettings(journal_key=key))
    ids = itertools.count()

    async def local_check() -> object:
        return local.check("subject:bench")

    async def redis_check() -> object:
        return await buckets.take(["subject:bench"], per_second=1e9, burst=1e9)

    async def hold(locks: object) -> object:
        async with locks.hold(["stock:SKU-1"]):  # type: ignore[attr-defined]
            return None

    local_locks = LocalLocks()

    def journal_write(journal: object) -> Callable[[], Awaitable[object]]:
        async def write() -> object:
            now = dt.now(utc)
            n = next(ids)
            order = OrderInput("C-1", (LineInput("SKU-1", Decimal(1)),))
            state = ProcessState(f"p{n}", f"k{n}", "fp", order, now, now)
            journal.claim(state)  # type: ignore[attr-defined]
            journal.record_step(state.id, "validate", "started", now)  # type: ignore[attr-defined]
            journal.save(state)  # type: ignore[attr-defined]
            return None

        return write

    try:
        return [
            Cost(
                "rate-limit check", await _each(local_check, times), await _each(redis_check, times)
            ),
            Cost(
                "lock hold + release",
                await _each(lambda: hold(local_locks), times),
                await _each(lambda: hold(shared.locks), times),
            ),
            Cost(
                "journal claim + step + save",
                await _each(journal_write(sqlite), times // 4),
                await _each(journal_write(postgres), times // 4),
            ),
        ]
    finally:
        sqlite.close()
        await shared.aclose()


async def main(quick: bool) -> str:
    why = missing()
    if why is not None:
        raise SystemExit(f"bench.scaleout needs PostgreSQL and Redis: {why}")
    requests = 80 if quick else 400
    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory(prefix="crossdock-scaleout-") as tmp,
        PostgresServer.start(durable=True) as pg,
        RedisServer.start() as redis,
    ):
        root = Path(tmp)
        unit = await costs(root, pg, redis, 400 if quick else 2000)
        async with emulations(root / "data", scale=1.0) as emu:
            for index, setup in enumerate(SETUPS):
                state = {
                    "CROSSDOCK_POSTGRES_URL": pg.create_database(f"bench{index}"),
                    "CROSSDOCK_REDIS_URL": redis.url,
                }
                rows += await run_setup(emu, setup, root / f"gw{index}", state, requests)
    return report(rows, unit, quick)


def report(rows: list[Row], unit: list[Cost], quick: bool) -> str:
    load = os.getloadavg()
    lines = [
        f"# Scale-out figures ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" load average before the run {load[0]:.2f}. Command: `python -m bench.scaleout"
        f"{' --quick' if quick else ''}`. Backend latency 0 ms; keep-alive connections.",
        "",
        "| set-up | workload | requests | req/s | p50 ms | p95 ms |",
        "|---|---|---:|---:|---:|---:|",
        *(row.markdown() for row in rows),
        "",
        "One operation at a time (µs; SQLite with synchronous=FULL, PostgreSQL with fsync on):",
        "",
        "| operation | embedded p50 | embedded p95 | shared p50 | shared p95 |",
        "|---|---:|---:|---:|---:|",
        *(cost.markdown() for cost in unit),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    args = parser.parse_args()
    print(asyncio.run(main(args.quick)))
