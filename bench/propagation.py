"""`python -m bench.propagation [--changes N] [--burst N] [--poll-s S] [--crm fxiaoke]`: how
long a change made directly in the CRM takes to reach ERPNext through Crossdock, over real
sockets.

The demo (`gateway.cli.demo.demo_running`: both emulations and the gateway on loopback, the
Zoho watch channel and ERPNext webhooks registered at startup, `[sync]` on) in two modes:

- `notifications`: Zoho calls /hooks/zoho, the change goes into the sync inbox, rule 1
  (`account_to_customer`) writes the ERP customer's billing address;
- `poll only`: `[inbound] notifications = false`, the catch-up poll every `--poll-s` seconds.

For each mode, `--changes` edits one at a time (an account's Billing_City through the Zoho
API; the clock stops when the ERPNext Address shows the new city, read every 10 ms), then a
burst of `--burst` edits of distinct accounts at once (the clock stops when all have
arrived). Prints a Markdown table of p50/p95/max latency and the burst's changes a second.
In the notifications mode it also times a change reaching a subscriber: an admin subscribed
to `orderChanged` over SSE; `--changes` Sales_Orders edited in Zoho (their Subject) one at a
time, the clock stopping at the event naming the order.
The figures include the bench's own 10 ms read interval.

With `--crm fxiaoke` (no notifications) there is one mode: the demo's Fxiaoke poll by
`last_modified_time` every `--poll-s` seconds; the edit is the account's `city` through
Fxiaoke's data/update (its one address is both the billing and the shipping one).
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

from backends.fxiaoke.serve import FxEmulations
from backends.serve import Emulations
from gateway.cli.demo import Demo, demo_running
from gateway.settings import Settings

READ_EVERY_S = 0.01
DEADLINE_S = 120.0


@dataclass
class Systems:
    """A CRM user and an ERP user calling the emulations' own APIs. `fx_auth` holds the
    legacy body fields when the CRM is Fxiaoke (None: Zoho)."""

    crm: httpx.AsyncClient
    erp: httpx.AsyncClient
    customers: dict[str, str]  # CRM account id -> ERP customer name
    fx_auth: dict[str, str] | None = None

    @classmethod
    async def open(cls, demo: Demo) -> Systems:
        e = demo.emulations.erp
        erp = httpx.AsyncClient(base_url=demo.emulations.erp_url, timeout=DEADLINE_S)
        erp.headers["Authorization"] = f"token {e.api_key}:{e.api_secret}"
        params = {
            "fields": json.dumps(["name", "custom_crm_account_id"]),
            "filters": json.dumps([["custom_crm_account_id", "is", "set"]]),
            "limit_page_length": "0",
        }
        rows = (await erp.get("/api/resource/Customer", params=params)).json()["data"]
        if isinstance(demo.emulations, FxEmulations):
            crm, fx_auth = await _fxiaoke_user(demo.emulations)
            known = set(await _fx_account_ids(crm, fx_auth))
        else:
            crm, fx_auth = await _zoho_user(demo.emulations), None
            accounts = await crm.get("/crm/v8/Accounts", params={"fields": "id", "per_page": 200})
            known = {a["id"] for a in accounts.json()["data"]}
        customers = {
            r["custom_crm_account_id"]: r["name"]
            for r in rows
            if r["custom_crm_account_id"] in known
        }
        return cls(crm, erp, customers, fx_auth)

    async def aclose(self) -> None:
        await self.crm.aclose()
        await self.erp.aclose()

    async def edit(self, account_id: str, city: str) -> None:
        if self.fx_auth is not None:
            record = {"dataObjectApiName": "AccountObj", "_id": account_id, "city": city}
            body = {**self.fx_auth, "data": {"object_data": record}}
            reply = await self.crm.post("/cgi/crm/v2/data/update", json=body)
            if reply.json().get("errorCode") != 0:
                raise RuntimeError(f"Fxiaoke refused the edit: {reply.text[:200]}")
            return
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


async def _zoho_user(emulations: Emulations) -> httpx.AsyncClient:
    z = emulations.zoho
    crm = httpx.AsyncClient(base_url=emulations.zoho_url, timeout=DEADLINE_S)
    form = {
        "grant_type": "refresh_token",
        "client_id": z.client_id,
        "client_secret": z.client_secret,
        "refresh_token": z.refresh_token,
    }
    token = (await crm.post("/oauth/v2/token", data=form)).json()["access_token"]
    crm.headers["Authorization"] = f"Zoho-oauthtoken {token}"
    return crm


async def _fxiaoke_user(emulations: FxEmulations) -> tuple[httpx.AsyncClient, dict[str, str]]:
    f = emulations.fxiaoke
    crm = httpx.AsyncClient(base_url=emulations.crm_url, timeout=DEADLINE_S)
    app = {"appId": f.app_id, "appSecret": f.app_secret, "permanentCode": f.permanent_code}
    reply = (await crm.post("/cgi/corpAccessToken/get/V2", json=app)).json()
    auth = {
        "corpAccessToken": reply["corpAccessToken"],
        "corpId": reply["corpId"],
        "currentOpenUserId": f.open_user_id,
    }
    return crm, auth


async def _fx_account_ids(crm: httpx.AsyncClient, auth: dict[str, str]) -> list[str]:
    """Every AccountObj `_id`, by `_id GT` pages of 100."""
    ids: list[str] = []
    while True:
        after = [{"field_name": "_id", "field_values": [ids[-1]], "operator": "GT"}] if ids else []
        info = {
            "limit": 100,
            "offset": 0,
            "filters": after,
            "fieldProjection": ["_id"],
            "orders": [{"fieldName": "_id", "isAsc": True}],
        }
        data = {"dataObjectApiName": "AccountObj", "search_query_info": info}
        page = (await crm.post("/cgi/crm/v2/data/query", json={**auth, "data": data})).json()
        rows = page["data"]["dataList"]
        ids += [r["_id"] for r in rows]
        if len(rows) < 100:
            return ids


async def registered(demo: Demo, systems: Systems) -> None:
    """Until the gateway's startup registration made its Zoho channel (notifications mode),
    and the CRM's first poll set its watermark (an edit before it would be before "now")."""
    if systems.fx_auth is not None:
        inbox = demo.app.state.sync.inbox if demo.app is not None else None

        async def watermark() -> bool:
            return inbox is not None and await inbox.watermark("crm:AccountObj") is not None

        await until(watermark)
        return
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


async def to_subscriber(demo: Demo, systems: Systems, n: int) -> list[float]:
    """Seconds from a Zoho order edit to the `orderChanged` event a subscriber gets."""
    listed = await systems.crm.get("/crm/v8/Sales_Orders", params={"fields": "id", "per_page": n})
    orders = [row["id"] for row in listed.json()["data"]][:n]
    heard: asyncio.Queue[str] = asyncio.Queue()
    headers = {"Authorization": f"Bearer {demo.tokens['admin']}", "Accept": "text/event-stream"}
    document = {"query": "subscription { orderChanged { id } }"}
    latencies = []
    async with (
        httpx.AsyncClient(timeout=DEADLINE_S) as http,
        http.stream("POST", demo.url, json=document, headers=headers) as stream,
    ):
        reader = asyncio.create_task(_events(stream, heard))
        await asyncio.sleep(0.5)  # the subscription is registered once the stream is open
        try:
            for i, order in enumerate(orders):
                start = time.perf_counter()
                edit = {"data": [{"Subject": f"Bench subject {i}"}]}
                (
                    await systems.crm.put(f"/crm/v8/Sales_Orders/{order}", json=edit)
                ).raise_for_status()
                while await heard.get() != order:
                    pass
                latencies.append(time.perf_counter() - start)
        finally:
            reader.cancel()
    return latencies


async def _events(stream: httpx.Response, heard: asyncio.Queue[str]) -> None:
    """Order ids of the `next` events of an SSE stream, into `heard`."""
    kind = ""
    async for line in stream.aiter_lines():
        if line.startswith("event:"):
            kind = line.partition(":")[2].strip()
        elif line.startswith("data:") and kind == "next":
            event = json.loads(line.partition(":")[2])
            heard.put_nowait(event["data"]["orderChanged"]["id"])


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
    subscriber: list[float] | None = None
    crm: str = "Zoho"

    def markdown(self) -> str:
        burst = f"{self.burst_n} in {self.burst_s:.2f} s ({self.burst_n / self.burst_s:.0f}/s)"
        line = f"| {self.mode}: {self.crm} → ERPNext | {_percentiles(self.latencies)} | {burst} |"
        if self.subscriber:
            heard = _percentiles(self.subscriber)
            line += f"\n| {self.mode}: {self.crm} → subscriber | {heard} | – |"
        return line


def _percentiles(seconds: list[float]) -> str:
    ms = sorted(x * 1000 for x in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"{len(ms)} | {statistics.median(ms):.0f} | {p95:.0f} | {ms[-1]:.0f}"


async def run_mode(
    mode: str,
    adjust: Callable[[Settings], Settings],
    changes: int,
    burst_n: int,
    crm: str = "zoho",
) -> Row:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    with tempfile.TemporaryDirectory() as tmp:
        async with demo_running(
            data_dir=Path(tmp),
            scale=0.2,
            env=env,
            port=0,
            emulation_ports=(0, 0),
            adjust=adjust,
            crm=crm,
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
                    heard = None
                    if demo.settings.inbound.notifications and crm == "zoho":
                        heard = await to_subscriber(demo, systems, changes)
            finally:
                await systems.aclose()
    return Row(mode, latencies, burst_n, seconds, heard, "Fxiaoke" if crm == "fxiaoke" else "Zoho")


def notifications(settings: Settings) -> Settings:
    return settings


def poll_only(poll_s: float) -> Callable[[Settings], Settings]:
    def adjust(settings: Settings) -> Settings:
        inbound = dataclasses.replace(settings.inbound, notifications=False, poll_interval_s=poll_s)
        return dataclasses.replace(settings, inbound=inbound)

    return adjust


def poll_interval(poll_s: float) -> Callable[[Settings], Settings]:
    """Fxiaoke: the demo's settings (the poll is its only path), at `poll_s`."""

    def adjust(settings: Settings) -> Settings:
        inbound = dataclasses.replace(settings.inbound, poll_interval_s=poll_s)
        return dataclasses.replace(settings, inbound=inbound)

    return adjust


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.propagation")
    parser.add_argument("--changes", type=int, default=20, help="edits timed one at a time")
    parser.add_argument("--burst", type=int, default=40, help="edits made at once")
    parser.add_argument("--poll-s", type=float, default=2.0, help="poll interval, poll-only mode")
    parser.add_argument(
        "--crm",
        choices=("zoho", "fxiaoke"),
        default="zoho",
        help="fxiaoke: its poll (every --poll-s; it has no notifications) is the only mode",
    )
    args = parser.parse_args()
    if args.crm == "fxiaoke":
        mode = f"poll ({args.poll_s:g} s)"
        adjust = poll_interval(args.poll_s)
        rows = [asyncio.run(run_mode(mode, adjust, args.changes, args.burst, "fxiaoke"))]
        _print(rows)
        return
    rows = [
        asyncio.run(run_mode("notifications", notifications, args.changes, args.burst)),
        asyncio.run(
            run_mode(
                f"poll only ({args.poll_s:g} s)", poll_only(args.poll_s), args.changes, args.burst
            )
        ),
    ]
    _print(rows)


def _print(rows: list[Row]) -> None:
    print(
        f"CRM -> ERP propagation, demo over loopback ({platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs)\n"
    )
    print("| path | edits | p50 ms | p95 ms | max ms | burst |\n|---|---|---|---|---|---|")
    for row in rows:
        print(row.markdown())


if __name__ == "__main__":
    main()
