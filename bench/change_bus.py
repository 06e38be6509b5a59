"""How long a change takes from one replica's bus to another's subscriber, over a real Redis.

    python -m bench.change_bus [--changes 500]

Starts a redis-server of its own (tests.support.engines) and two `RedisChangeBus`es, each
with its own client, as two replicas would have. One at a time: a change published on A,
the time until B's subscriber has it (one XADD, Redis, B's XREAD, the subscriber's
queue). Then a burst: all changes published at once, the time until B has them all.
Prints a Markdown table; the figures go in docs/scale-out.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime

import redis.asyncio

from resolvers.sync import Change
from resolvers.sync.redis_bus import RedisChangeBus
from tests.support.engines import RedisServer, missing


def _change(i: int) -> Change:
    return Change("erp", "shipment", f"SHIP-{i:05d}", "update", "notification", datetime.now(UTC))


async def _bus(url: str) -> RedisChangeBus:
    bus = RedisChangeBus(redis.asyncio.Redis.from_url(url), key_prefix="bench:")
    await bus.start()
    for _ in range(1000):
        if bus.listening:
            return bus
        await asyncio.sleep(0.01)
    raise RuntimeError(f"the bus did not read stream {bus.channel} within 10 s")


async def measure(url: str, changes: int) -> tuple[list[float], float]:
    """(one-at-a-time latencies in ms, burst throughput in changes/s)."""
    a, b = await _bus(url), await _bus(url)
    heard: asyncio.Queue[float] = asyncio.Queue()

    async def listen() -> None:
        async with b.subscribe() as stream:
            async for _ in stream:
                heard.put_nowait(time.perf_counter())

    task = asyncio.create_task(listen())
    await asyncio.sleep(0.1)  # the subscription is registered
    latencies = []
    for i in range(changes):
        start = time.perf_counter()
        a.publish(_change(i))
        latencies.append((await heard.get() - start) * 1000)
    start = time.perf_counter()
    for i in range(changes):
        a.publish(_change(i))
    for _ in range(changes):
        last = await heard.get()
    rate = changes / (last - start)
    task.cancel()
    for bus in (a, b):
        await bus.aclose()
        await bus.redis.aclose()
    return latencies, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=500)
    args = parser.parse_args()
    why = missing()
    if why is not None:
        raise SystemExit(why)
    with RedisServer.start() as server:
        latencies, rate = asyncio.run(measure(server.url, args.changes))
    cuts = statistics.quantiles(latencies, n=100)
    print("| changes | p50 ms | p95 ms | max ms | burst changes/s |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {args.changes} | {cuts[49]:.2f} | {cuts[94]:.2f} | {max(latencies):.2f} | {rate:,.0f} |"
    )


if __name__ == "__main__":
    main()
