"""`python -m bench.propagation [--changes N] [--burst N] [--poll-s S]`: how long a change made
directly in Zoho takes to reach ERPNext through Crossdock, over real sockets.

The demo (`gateway.cli.demo.demo_running`: both emulations and the gateway on loopback, the
Zoho watch channel and ERPNext webhooks registered at startup, `[sync]` on) in two modes:

- `notifications`: Zoho calls /hooks/zoho, the change goes into the sync inbox, rule 1
  (`account_to_customer`) writes the ERP customer's billing address;
- `poll only`: `[inbound] notifications = false`, the catch-up poll every `--poll-s` seconds.

For each mode, `--changes` edits one at a time (an account's Billing_City through the Zoho
API; the clock stops when the ERPNext Address shows the new city, read every 10 ms), then a
burst of `--burst` edits of distinct accounts at once (the clock stops when all have
arrived). Prints a Markdown table of p50/p95/max latency and the burst's changes a second.
The figures include the bench's own 10 ms read interval.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from gateway.cli.demo import Demo, demo_running
from gateway.settings import Settings

READ_EVERY_S = 0.01
DEADLINE_S = 120.0


@dataclass
class Systems:
    """A CRM user and an ERP user calling the emulations' own APIs."""

    crm: httpx.AsyncClient
    erp: httpx.AsyncClient
    customers: dict[str, str]  # CRM account id -> ERP customer name

    @classmethod
    async def open(cls, demo: Demo) -> Systems:
        z, e = demo.emulations.zoho, demo.emulations.erp
        crm = httpx.AsyncClient(base_url=demo.emulations.zoho_url, timeout=DEADLINE_S)
        form = {
            "grant_type": "refresh_token",
            "client_id": z.client_id,
            "client_secret": z.client_secret,
            "refresh_token": z.refresh_token,
        }
        token = (await crm.post("/oauth/v2/token", data=form)).json()["access_token"]
        crm.headers["Authorization"] = f"Zoho-oauthtoken {token}"
        erp = httpx.AsyncClient(base_url=demo.emulations.erp_url, timeout=DEADLINE_S)
        erp.headers["Authorization"] = f"token {e.api_key}:{e.api_secret}"
        params = {
            "fields": json.dumps(["name", "custom_crm_account_id"]),
            "filters": json.dumps([["custom_crm_account_id", "is", "set"]]),
            "limit_page_length": "0",
        }
        rows = (await erp.get("/api/resource/Customer", params=params)).json()["data"]
        accounts = await crm.get("/crm/v8/Accounts", params={"fields": "id", "per_page": 200})
        known = {a["id"] for a in accounts.json()["data"]}
        customers = {
            r["custom_crm_account_id"]: r["name"]
            for r in rows
            if r["custom_crm_account_id"] in known
        }
        return cls(crm, erp, customers)

    async def aclose(self) -> None:
        await self.crm.aclose()
        await self.erp.aclose()

    async def edit(self, account_id: str, city: str) -> None:
        update = {"data": [{"Billing_City": city}]}
        reply = await self.crm.put(f"/crm/v8/Accounts/{account_id}", json=update)
        reply.raise_for_status()

    async def arrived(self, account_id: str, city: str) -> bool:
        params = {
            "fields": json.dumps(["city"]),
            "filters": json.dumps([["Dynamic Link", "link_name", "=", self.customers[account_id]]]),
        }
        rows = (await self.erp.get("/api/resource/Address", params=params)).json()["data"]
        return any(r["city"] == city for r in rows)

    async def until_arrived(self, account_id: str, city: str) -> float:
        await until(lambda: self.arrived(account_id, city))
        return time.perf_counter()


async def registered(demo: Demo, systems: Systems) -> None:
    """Until the gateway's startup registration made its Zoho channel (notifications mode)."""
    if not demo.settings.inbound.notifications:
        return

    async def channel() -> bool:
        return bool((await systems.crm.get("/crm/v8/actions/watch")).json().get("watch"))

    await until(channel)


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Read `check` every READ_EVERY_S until it holds (the caller bounds the wait)."""
    while True:
        if await check():
            return
        await asyncio.sleep(READ_EVERY_S)


async def one_at_a_time(systems: Systems, accounts: list[str], tag: str) -> list[float]:
    latencies = []
    for i, account in enumerate(accounts):
        city = f"City {tag}-{i}"
        start = time.perf_counter()
        await systems.edit(account, city)
        latencies.append(await systems.until_arrived(account, city) - start)
    return latencies


async def burst(systems: Systems, accounts: list[str], tag: str) -> float:
    cities = {a: f"Burst {tag}-{i}" for i, a in enumerate(accounts)}
    start = time.perf_counter()
    await asyncio.gather(*(systems.edit(a, c) for a, c in cities.items()))
    await asyncio.gather(*(systems.until_arrived(a, c) for a, c in cities.items()))
    return time.perf_counter() - start


@dataclass(frozen=True)
class Row:
    mode: str
    latencies: list[float]
    burst_n: int
    burst_s: float

    def markdown(self) -> str:
        ms = sorted(x * 1000 for x in self.latencies)
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        return (
            f"| {self.mode} | {len(ms)} | {statistics.median(ms):.0f} | {p95:.0f} | "
            f"{ms[-1]:.0f} | {self.burst_n} in {self.burst_s:.2f} s "
            f"({self.burst_n / self.burst_s:.0f}/s) |"
        )


async def run_mode(
    mode: str, adjust: Callable[[Settings], Settings], changes: int, burst_n: int
) -> Row:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    with tempfile.TemporaryDirectory() as tmp:
        async with demo_running(
            data_dir=Path(tmp), scale=0.2, env=env, port=0, emulation_ports=(0, 0), adjust=adjust
        ) as demo:
            systems = await Systems.open(demo)
            try:
                await registered(demo, systems)
                accounts = sorted(systems.customers)
                if len(accounts) < max(changes, burst_n):
                    raise SystemExit(f"the seed has {len(accounts)} linked accounts; ask for fewer")
                async with asyncio.timeout(DEADLINE_S):
                    latencies = await one_at_a_time(systems, accounts[:changes], mode[:4])
                    seconds = await burst(systems, accounts[:burst_n], mode[:4])
            finally:
                await systems.aclose()
    return Row(mode, latencies, burst_n, seconds)


def notifications(settings: Settings) -> Settings:
    return settings


def poll_only(poll_s: float) -> Callable[[Settings], Settings]:
    def adjust(settings: Settings) -> Settings:
        inbound = dataclasses.replace(settings.inbound, notifications=False, poll_interval_s=poll_s)
        return dataclasses.replace(settings, inbound=inbound)

    return adjust


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.propagation")
    parser.add_argument("--changes", type=int, default=20, help="edits timed one at a time")
    parser.add_argument("--burst", type=int, default=40, help="edits made at once")
    parser.add_argument("--poll-s", type=float, default=2.0, help="poll interval, poll-only mode")
    args = parser.parse_args()
    rows = [
        asyncio.run(run_mode("notifications", notifications, args.changes, args.burst)),
        asyncio.run(
            run_mode(
                f"poll only ({args.poll_s:g} s)", poll_only(args.poll_s), args.changes, args.burst
            )
        ),
    ]
    print(
        f"CRM -> ERP propagation, demo over loopback ({platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs)\n"
    )
    print("| mode | edits | p50 ms | p95 ms | max ms | burst |\n|---|---|---|---|---|---|")
    for row in rows:
        print(row.markdown())


if __name__ == "__main__":
    main()
