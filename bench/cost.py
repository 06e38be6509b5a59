"""What one feature costs in gateway CPU per W2 request, measured in this process: the pieces
`bench.tracing` and `bench.metrics` share (a timed run of requests, and the table of medians
against "off")."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable

from bench.workloads import GatewayClient, order_list

After = Callable[[GatewayClient], Awaitable[None]]


async def cpu_per_request(
    client: GatewayClient, first: int, requests: int, *, after: After | None = None
) -> float:
    """Milliseconds of this process's CPU per W2 request, `requests` in a row (`after` runs
    after each one and counts in its cost)."""
    workload = order_list(first)
    started = time.process_time()
    for _ in range(requests):
        await client.run(workload)
        if after is not None:
            await after(client)
    return (time.process_time() - started) * 1000 / requests


def title(first: int, scale: float, rounds: int, requests: int) -> str:
    return (
        f"W2 orders({first}), scale {scale}, {rounds} rounds x {requests} requests per mode, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; gateway CPU per request (median of rounds)"
    )


def ratio_table(samples: dict[str, list[float]], feature: str) -> list[str]:
    """One row per mode: its median CPU per request and its ratio to the "off" mode's."""
    off = statistics.median(samples["off"])
    lines = [f"| {feature} | CPU ms / request | vs off |", "|---|---|---|"]
    for mode, found in samples.items():
        median = statistics.median(found)
        lines.append(f"| {mode} | {median:.2f} | {median / off:.3f}x |")
    return lines
