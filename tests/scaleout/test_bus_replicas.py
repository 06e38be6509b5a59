"""A change received by one replica's webhook reaches subscribers on every replica (issue 19).

Two `crossdock serve` processes share PostgreSQL and Redis; the emulations run in a third.
Replica A has `[inbound]` on with its own URL as the public one: at start-up it registers the
ERPNext webhooks, so an edit made through the ERP's API is delivered by the emulation over
HTTP to A's /hooks/erpnext, and A publishes it on its change bus: directly, or (with `[sync]`
on in A, one change at a time) after its sync processor took it from the shared inbox.
Replica B receives nothing itself: its subscribers (GraphQL over SSE) hear the change over
Redis pub/sub, once each and in A's order, and a partner still hears only its carrier's
shipments.

Subscribers are known to listen once each has heard a warm-up edit (repeated until heard;
those events are then set aside). A sentinel edit made last shows that nothing arrived twice.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from backends.erpnext.store import ErpStore
from gateway.auth.tokens import mint
from resolvers.state.config import StateSettings
from tests.scaleout.replicas import Emulations, Replica, write_config
from tests.support.engines import PostgresServer, RedisServer, free_port
from tests.support.stack import JWT_SECRET

pytestmark = [pytest.mark.engines, pytest.mark.sockets]
DEADLINE_S = 60.0
ERP_AUTH = {"Authorization": "token crossdock-demo:crossdock-demo-secret"}
DOCUMENT = "subscription { shipmentChanged { id carrier trackingUrl } }"
_names = itertools.count(1)


@dataclass
class Pair:
    mode: str  # "hooks" | "sync"
    state: StateSettings
    emulations: Emulations
    a: Replica  # receives the webhooks
    b: Replica  # receives nothing itself


def inbound(url: str, root: Path) -> str:
    return f"""
[inbound]
enabled = true
public_url = "{url}"
zoho_token = "bus-replicas-zoho-token"
erpnext_secret = "bus-replicas-erpnext-secret"
poll_interval_s = 0
register_interval_s = 0
watermarks_path = "{root / "watermarks.sqlite"}"
"""


SYNC = """
[sync]
enabled = true
batch = 1
idle_s = 1
"""


@pytest.fixture(scope="module", params=["hooks", "sync"])
def pair(
    request: pytest.FixtureRequest,
    engines: tuple[PostgresServer, RedisServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    """`hooks`: A's receivers publish on its bus directly; `sync`: A's receivers put the change
    into the shared inbox (PostgreSQL), A's sync processor applies the rules and publishes."""
    pg, redis = engines
    root = tmp_path_factory.mktemp("bus-replicas")
    state = StateSettings(
        postgres_url=pg.create_database(f"bus_replicas_{next(_names)}"),
        redis_url=redis.url.replace("/0", "/2"),  # a Redis database of its own
    )
    port_a = free_port()
    with Emulations.start(root) as emulations:
        url_a = f"http://127.0.0.1:{port_a}"
        extra = inbound(url_a, root) + (SYNC if request.param == "sync" else "")
        config_a = write_config(root, emulations, extra, name="a.toml")
        config_b = write_config(root, emulations, name="b.toml")
        with (
            Replica.start(config_a, state, name="a", port=port_a) as a,
            Replica.start(config_b, state, name="b") as b,
        ):
            yield Pair(request.param, state, emulations, a, b)


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def ready(http: httpx.AsyncClient, replica: Replica) -> None:
    """/readyz answers 200 once the replica's change bus is subscribed (the state probe)."""
    deadline = time.monotonic() + DEADLINE_S
    while (await http.get(replica.url + "/readyz")).status_code != 200:
        if time.monotonic() > deadline:
            raise AssertionError(f"{replica.url}/readyz did not become ready")
        await asyncio.sleep(0.2)


@dataclass
class Subscriber:
    """One SSE subscription's shipment events, read in the background."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def ids(self, *, besides: str) -> list[str]:
        return [e["id"] for e in self.events if e["id"] != besides]

    async def read(self, response: httpx.Response) -> None:
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                body = json.loads(line.partition(":")[2])
                if "data" in body:
                    self.events.append(body["data"]["shipmentChanged"])


@asynccontextmanager
async def subscribed(url: str, bearer: str) -> AsyncIterator[Subscriber]:
    headers = {"Authorization": f"Bearer {bearer}", "Accept": "text/event-stream"}
    subscriber = Subscriber()
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(DEADLINE_S, read=None)) as http,
        http.stream("POST", url + "/graphql", json={"query": DOCUMENT}, headers=headers) as r,
    ):
        assert r.status_code == 200, await r.aread()
        task = asyncio.create_task(subscriber.read(r))
        try:
            yield subscriber
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def token(role: str, partner_id: str | None = None) -> str:
    subject = f"bus-{role}-{partner_id or ''}"
    return mint(JWT_SECRET, subject=subject, roles=[role], partner_id=partner_id)


def shipments_by_carrier(emulations: Emulations) -> dict[str, list[str]]:
    erp = ErpStore(emulations.data / "erpnext.sqlite3")
    try:
        rows = erp.query("SELECT name, carrier FROM tabShipment WHERE docstatus = 1 ORDER BY name")
    finally:
        erp.close()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(str(row["carrier"]), []).append(str(row["name"]))
    return found


async def edit(http: httpx.AsyncClient, emulations: Emulations, name: str) -> str:
    """Set a new tracking URL through the ERP's own API (its webhook then calls A)."""
    url = f"https://track.example/{name}/{time.monotonic_ns()}"
    reply = await http.put(
        f"{emulations.erp_url}/api/resource/Shipment/{name}",
        json={"tracking_url": url},
        headers=ERP_AUTH,
    )
    assert reply.status_code == 200, reply.text
    return url


async def webhooks_registered(http: httpx.AsyncClient, emulations: Emulations) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        reply = await http.get(
            f"{emulations.erp_url}/api/resource/Webhook",
            params={"fields": '["name"]', "limit_page_length": "0"},
            headers=ERP_AUTH,
        )
        if reply.status_code == 200 and reply.json()["data"]:
            return
        if time.monotonic() > deadline:
            raise AssertionError("replica A did not register its ERPNext webhooks")
        await asyncio.sleep(0.2)


async def warm_up(
    http: httpx.AsyncClient, emulations: Emulations, name: str, subscribers: list[Subscriber]
) -> None:
    """Edit `name` once a second until every subscriber has heard it (they all listen)."""
    deadline = time.monotonic() + DEADLINE_S
    while not all(s.events for s in subscribers):
        if time.monotonic() > deadline:
            raise AssertionError("the subscribers never heard the warm-up edits")
        await edit(http, emulations, name)
        for _ in range(20):
            if all(s.events for s in subscribers):
                return
            await asyncio.sleep(0.05)


async def test_a_webhook_received_by_a_reaches_subscribers_on_b_once_in_order(
    pair: Pair,
) -> None:
    carriers = shipments_by_carrier(pair.emulations)
    ups, dhl, warm, sentinel = carriers["UPS"][0], *carriers["DHL"][:3]
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=DEADLINE_S))
        await ready(http, pair.a)
        await ready(http, pair.b)
        await webhooks_registered(http, pair.emulations)
        on_b = await stack.enter_async_context(subscribed(pair.b.url, token("logistics")))
        partner = await stack.enter_async_context(
            subscribed(pair.b.url, token("partner", partner_id="DHL"))
        )
        on_a = await stack.enter_async_context(subscribed(pair.a.url, token("logistics")))
        await warm_up(http, pair.emulations, warm, [on_b, partner, on_a])

        ups_url = await edit(http, pair.emulations, ups)
        dhl_url = await edit(http, pair.emulations, dhl)
        await edit(http, pair.emulations, sentinel)
        for subscriber in (on_b, partner, on_a):
            await until(lambda s=subscriber: sentinel in s.ids(besides=warm), "the sentinel")

    assert on_b.ids(besides=warm) == [ups, dhl, sentinel]  # once each, in A's order
    assert on_a.ids(besides=warm) == [ups, dhl, sentinel]  # A's own: not twice either
    assert partner.ids(besides=warm) == [dhl, sentinel]  # UPS's shipment skipped
    assert {e["carrier"] for e in partner.events} == {"DHL"}
    urls = {e["id"]: e["trackingUrl"] for e in on_b.events}
    assert (urls[ups], urls[dhl]) == (ups_url, dhl_url)  # B read them afresh after the edit
    if pair.mode == "sync":  # the changes went through the shared inbox and the processor
        assert pair.state.postgres_url is not None
        with psycopg.connect(pair.state.postgres_url) as conn:
            rows = conn.execute(
                "SELECT DISTINCT record_id FROM sync_inbox WHERE entity = 'shipment'"
                " AND state = 'done'"
            ).fetchall()
        assert {ups, dhl, sentinel} <= {row[0] for row in rows}
