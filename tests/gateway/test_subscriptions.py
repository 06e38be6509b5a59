"""Subscriptions over real sockets, with real protocol clients.

The production gateway (`gateway.wiring.assemble`) served by uvicorn on a loopback port with
the protocol options `crossdock serve` uses (`gateway.server.protocol_options`); the
emulations behind it in-process. Clients: `gql` with its websockets transport
(graphql-transport-ws), the `websockets` library where the close code matters, and httpx
streaming for GraphQL over SSE. A change is made in an emulation first, then published on
the gateway's bus (`app.state.change_bus`) as the sync processor would: the event carries the
object as the gateway reads it then. Waits are polls with generous deadlines, never sleeps.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from starlette.applications import Starlette

from backends.erpnext.app import ErpEmulator
from backends.erpnext.store import ErpStore
from backends.seed import seed
from backends.serve import serving
from backends.zoho.store import ZohoStore
from gateway.auth.tokens import mint
from gateway.server import protocol_options
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.sync import Change, ChangeBus
from resolvers.sync.change import Entity, System
from resolvers.zoho import ZohoCRM
from tests.support.access_spy import AccessSpy
from tests.support.stack import JWT_SECRET, SEED_SCALE, SeededStores, gateway_settings

pytestmark = pytest.mark.sockets
DEADLINE_S = 15.0
ERP_AUTH = {"Authorization": "token crossdock-demo:crossdock-demo-secret"}
SHIPMENT_FIELDS = "id carrier status trackingUrl"


@pytest.fixture(scope="module")
def seeded_stores(tmp_path_factory: pytest.TempPathFactory) -> SeededStores:
    """This module writes to the emulations: its own seeded stores, not the session's."""
    root: Path = tmp_path_factory.mktemp("subscriptions")
    stores = SeededStores(ZohoStore(root / "zoho.sqlite3"), ErpStore(root / "erp.sqlite3"))
    seed(stores.zoho, stores.erp, scale=SEED_SCALE, random_seed=7)
    return stores


@dataclasses.dataclass
class Gateway:
    port: int
    app: Starlette

    @property
    def bus(self) -> ChangeBus:
        bus = self.app.state.change_bus
        assert isinstance(bus, ChangeBus)
        return bus

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"


Serve = Callable[..., Any]


@pytest.fixture
def serve(tmp_path: Path, crm: ZohoCRM, scm: ERPNext) -> Serve:
    """`async with serve(max_connections=5) as gateway`: the production gateway on a port,
    tokens checked without leeway (so a short token ends when its `exp` says)."""

    @asynccontextmanager
    async def run(max_connections: int = 5) -> AsyncIterator[Gateway]:
        settings = gateway_settings(tmp_path)
        subs = dataclasses.replace(
            settings.subscriptions, max_connections_per_subject=max_connections
        )
        auth = dataclasses.replace(settings.auth, leeway_s=0)
        settings = dataclasses.replace(settings, subscriptions=subs, auth=auth)
        app = assemble(settings, crm=crm, scm=scm)
        options = protocol_options(settings.server)  # what `crossdock serve` runs
        async with serving(app, "127.0.0.1", 0, lifespan="on", **options) as port:
            yield Gateway(port, app)

    return run


def token(role: str, *, partner_id: str | None = None, ttl: int = 3600, sub: str = "") -> str:
    subject = sub or f"subs-{role}-{partner_id or ''}"
    return mint(JWT_SECRET, subject=subject, roles=[role], partner_id=partner_id, ttl=ttl)


def change(system: System, entity: Entity, record_id: str, **fields: Any) -> Change:
    now = datetime.now(UTC)
    return Change(system, entity, record_id, "update", "notification", now, fields=fields)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` until it holds; fail after DEADLINE_S saying what was awaited."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def shipments_by_carrier(scm_emulator: ErpEmulator) -> dict[str, list[str]]:
    rows = scm_emulator.store.query(
        "SELECT name, carrier FROM tabShipment WHERE docstatus = 1 ORDER BY name"
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(str(row["carrier"]), []).append(str(row["name"]))
    return found


async def set_tracking_url(scm_emulator: ErpEmulator, name: str, url: str) -> None:
    """A change made in ERPNext through its own API (tracking is editable after submit)."""
    transport = httpx.ASGITransport(app=scm_emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://erp") as client:
        reply = await client.put(
            f"/api/resource/Shipment/{name}", json={"tracking_url": url}, headers=ERP_AUTH
        )
    assert reply.status_code == 200, reply.text


def ws_transport(url: str, bearer: str | None) -> WebsocketsTransport:
    payload = {} if bearer is None else {"authorization": f"Bearer {bearer}"}
    return WebsocketsTransport(
        url=url,
        init_payload=payload,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        connect_timeout=DEADLINE_S,
        ack_timeout=DEADLINE_S,
    )


async def first_event(
    gateway: Gateway,
    bearer: str,
    document: str,
    publish: Callable[[], Awaitable[None]],
    *,
    subscribers: int = 1,
) -> dict[str, Any]:
    """Subscribe with gql over graphql-transport-ws, publish once it listens, return the
    first event's data."""
    async with Client(transport=ws_transport(gateway.ws_url, bearer)) as session:
        events = session.subscribe(gql(document))
        first = asyncio.ensure_future(anext(events))
        await until(lambda: gateway.bus.subscribers >= subscribers, "the subscription")
        await publish()
        result: dict[str, Any] = await asyncio.wait_for(first, DEADLINE_S)
        await events.aclose()
        return result


async def test_a_shipment_change_reaches_the_subscriber_as_the_gateway_reads_it(
    serve: Serve, scm_emulator: ErpEmulator
) -> None:
    name = shipments_by_carrier(scm_emulator)["DHL"][0]
    url = f"https://track.example/{name}/{time.monotonic_ns()}"

    async with serve() as gateway:

        async def publish() -> None:
            await set_tracking_url(scm_emulator, name, url)
            gateway.bus.publish(change("erp", "shipment", name))

        document = f"subscription {{ shipmentChanged {{ {SHIPMENT_FIELDS} }} }}"
        data = await first_event(gateway, token("logistics"), document, publish)

    assert data["shipmentChanged"]["id"] == name
    assert data["shipmentChanged"]["carrier"] == "DHL"
    assert data["shipmentChanged"]["trackingUrl"] == url  # read afresh, after the write


async def test_a_partner_hears_only_its_carriers_shipments(
    serve: Serve, scm_emulator: ErpEmulator
) -> None:
    carriers = shipments_by_carrier(scm_emulator)
    ups, dhl = carriers["UPS"][0], carriers["DHL"][0]
    async with serve() as gateway:

        async def publish() -> None:  # the UPS change first: it must be skipped, not sent
            gateway.bus.publish(change("erp", "shipment", ups))
            gateway.bus.publish(change("erp", "shipment", dhl))

        document = f"subscription {{ shipmentChanged {{ {SHIPMENT_FIELDS} }} }}"
        partner = token("partner", partner_id="DHL")
        data = await first_event(gateway, partner, document, publish)
    assert data["shipmentChanged"]["id"] == dhl
    assert data["shipmentChanged"]["carrier"] == "DHL"


async def test_the_subscription_filters_by_carrier_and_id(
    serve: Serve, scm_emulator: ErpEmulator
) -> None:
    carriers = shipments_by_carrier(scm_emulator)
    first_ups, second_ups = carriers["UPS"][0], carriers["UPS"][1]
    async with serve() as gateway:

        async def publish() -> None:
            gateway.bus.publish(change("erp", "shipment", carriers["DHL"][0]))
            gateway.bus.publish(change("erp", "shipment", first_ups))
            gateway.bus.publish(change("erp", "shipment", second_ups))

        document = (
            f'subscription {{ shipmentChanged(carrier: "UPS", id: "{second_ups}") '
            f"{{ {SHIPMENT_FIELDS} }} }}"
        )
        data = await first_event(gateway, token("admin"), document, publish)
    assert data["shipmentChanged"]["id"] == second_ups


async def test_a_masked_field_is_masked_in_each_event(serve: Serve) -> None:
    async with serve() as gateway:
        order_id = await _some_order_id(gateway)

        async def publish() -> None:
            gateway.bus.publish(change("crm", "order", order_id))

        document = (
            f'subscription {{ orderChanged(id: "{order_id}") {{ id customer {{ id email }} }} }}'
        )
        analyst = await first_event(gateway, token("analyst"), document, publish)
        admin = await first_event(gateway, token("admin"), document, publish)
    assert analyst["orderChanged"]["id"] == order_id
    plain = admin["orderChanged"]["customer"]["email"]
    masked = analyst["orderChanged"]["customer"]["email"]
    assert "@" in plain
    assert masked != plain  # the analyst role reads emails masked
    assert "*" in masked


async def test_each_subscription_is_analysed_once_for_all_its_events(
    serve: Serve, scm_emulator: ErpEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two subscriptions on one socket: each has its own analysis (one walk, one computation
    of the caller's row filters, none for an admin), made before its first event and read by
    every event."""
    spy = AccessSpy.install(monkeypatch)
    dhl = shipments_by_carrier(scm_emulator)["DHL"][:3]
    shipments: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    async with serve() as gateway:
        order_id = await _some_order_id(gateway)
        spy.reset()
        transport = ws_transport(gateway.ws_url, token("admin"))
        async with Client(transport=transport) as session:
            shipment_events = session.subscribe(gql("subscription { shipmentChanged { id } }"))
            order_events = session.subscribe(
                gql(f'subscription {{ orderChanged(id: "{order_id}") {{ id }} }}')
            )
            reading = asyncio.gather(
                _collect(shipment_events, shipments, len(dhl)), _collect(order_events, orders, 1)
            )
            await until(lambda: gateway.bus.subscribers >= 2, "both subscriptions")
            for name in dhl:
                gateway.bus.publish(change("erp", "shipment", name))
            gateway.bus.publish(change("crm", "order", order_id))
            await asyncio.wait_for(reading, DEADLINE_S)
    assert [event["shipmentChanged"]["id"] for event in shipments] == dhl
    assert orders == [{"orderChanged": {"id": order_id}}]
    assert (spy.walks, spy.row_filters) == (2, 2)  # one per subscription, none per event


async def _collect(events: AsyncIterator[Any], into: list[Any], count: int) -> None:
    async for event in events:
        into.append(event)
        if len(into) == count:
            return


async def test_a_denied_field_refuses_the_subscription(serve: Serve) -> None:
    async with serve() as gateway:
        transport = ws_transport(gateway.ws_url, token("partner", partner_id="DHL"))
        async with Client(transport=transport) as session:
            refused = await _refusal(session, "subscription { orderChanged { id } }")
            denied = await _refusal(
                session, "subscription { shipmentChanged { id order { number } } }"
            )
        assert gateway.bus.subscribers == 0
    assert "orderChanged" in refused
    assert "'order'" in denied


async def _refusal(session: Any, document: str) -> str:
    """The error a subscription is refused with (it must be refused, not started)."""
    with pytest.raises(TransportQueryError) as refused:
        await anext(session.subscribe(gql(document)))
    return str(refused.value)


async def test_an_order_change_is_filtered_by_customer(serve: Serve) -> None:
    async with serve() as gateway:
        orders = await _orders(gateway)
        (first_id, _), (second_id, second_customer) = next(
            (a, b) for a in orders for b in orders if a[1] != b[1]
        )

        async def publish() -> None:
            gateway.bus.publish(change("crm", "order", first_id))
            gateway.bus.publish(change("crm", "order", second_id))

        document = (
            f'subscription {{ orderChanged(customerId: "{second_customer}") '
            "{ id customer { id } } }"
        )
        data = await first_event(gateway, token("sales"), document, publish)
    assert data["orderChanged"] == {"id": second_id, "customer": {"id": second_customer}}


async def test_stock_changes_filtered_by_reorder_level(
    serve: Serve, scm_emulator: ErpEmulator
) -> None:
    skus = [
        str(r["item_code"])
        for r in scm_emulator.store.query("SELECT DISTINCT item_code FROM tabBin LIMIT 2")
    ]
    async with serve() as gateway:

        async def publish() -> None:
            gateway.bus.publish(change("erp", "stock", f"{skus[0]}@Stores - AC"))
            gateway.bus.publish(
                change("erp", "stock", f"{skus[1]}@Stores - AC", below_reorder_level=True)
            )

        document = "subscription { stockChanged(belowReorderLevel: true) { sku available } }"
        data = await first_event(gateway, token("logistics"), document, publish)
    assert data["stockChanged"]["sku"] == skus[1]
    assert isinstance(data["stockChanged"]["available"], float)


async def test_an_expired_token_ends_the_subscription_and_closes_4403(
    serve: Serve, scm_emulator: ErpEmulator
) -> None:
    async with serve() as gateway:
        short = token("logistics", ttl=2)
        async with websockets.connect(
            gateway.ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        ) as ws:
            init = {"authorization": f"Bearer {short}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": init}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            document = "subscription { shipmentChanged { id } }"
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": document}}
            await ws.send(json.dumps(subscribe))
            messages = await _until_closed(ws)
            assert ws.close_code == 4403
            assert ws.close_reason == "Forbidden: token expired"
        await until(lambda: gateway.bus.subscribers == 0, "the subscription to end")
    codes = [
        e["extensions"]["code"] for m in messages for e in m.get("payload", {}).get("errors", [])
    ]
    assert codes in ([], ["TOKEN_EXPIRED"])  # its own error, unless the close came first


async def _until_closed(ws: Any) -> list[dict[str, Any]]:
    """Every message until the server closes the socket."""
    messages = []
    while True:
        try:
            messages.append(json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S)))
        except websockets.ConnectionClosed:
            return messages


async def test_a_bad_token_is_refused_at_connection_init(serve: Serve) -> None:
    async with serve() as gateway:
        for payload in ({"authorization": "Bearer not-a-jwt"}, {}):
            async with websockets.connect(
                gateway.ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
            ) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), DEADLINE_S)
                assert ws.close_code == 4403
                assert ws.close_reason.startswith("Forbidden: ")


async def test_the_upgrade_header_may_carry_the_token(serve: Serve) -> None:
    async with serve() as gateway:
        headers = {"Authorization": f"Bearer {token('admin')}"}
        async with websockets.connect(
            gateway.ws_url,
            subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
            additional_headers=headers,
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S)) == {
                "type": "connection_ack"
            }


async def test_over_the_connection_limit_is_refused_with_4429(serve: Serve) -> None:
    bearer = token("admin", sub="limited")
    init = json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {bearer}"}})
    protocol = [websockets.Subprotocol("graphql-transport-ws")]
    async with serve(max_connections=2) as gateway:
        async with (
            websockets.connect(gateway.ws_url, subprotocols=protocol) as one,
            websockets.connect(gateway.ws_url, subprotocols=protocol) as two,
        ):
            for ws in (one, two):
                await ws.send(init)
                assert json.loads(await ws.recv())["type"] == "connection_ack"
            async with websockets.connect(gateway.ws_url, subprotocols=protocol) as three:
                await three.send(init)
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(three.recv(), DEADLINE_S)
                assert three.close_code == 4429
                assert "limit 2" in three.close_reason
            # SSE counts against the same limit
            async with httpx.AsyncClient(timeout=DEADLINE_S) as client:
                reply = await client.post(
                    gateway.http_url,
                    json={"query": "subscription { shipmentChanged { id } }"},
                    headers={"Authorization": f"Bearer {bearer}", "Accept": "text/event-stream"},
                )
            assert reply.status_code == 429
            assert reply.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_CONNECTIONS"
        # the slots are given back when connections close
        async with websockets.connect(gateway.ws_url, subprotocols=protocol) as again:
            await again.send(init)
            assert json.loads(await again.recv())["type"] == "connection_ack"


async def test_malformed_messages_close_the_socket_not_the_server(serve: Serve) -> None:
    protocol = [websockets.Subprotocol("graphql-transport-ws")]
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token('admin')}"}}
    async with serve() as gateway:
        for junk in ("{not json", json.dumps([1, 2]), json.dumps({"type": "subscribe"}), "\x00"):
            async with websockets.connect(gateway.ws_url, subprotocols=protocol) as ws:
                await ws.send(json.dumps(init))
                await ws.recv()
                await ws.send(junk)
                with pytest.raises(websockets.ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), DEADLINE_S)
                assert ws.close_code == 4400
        async with httpx.AsyncClient(timeout=DEADLINE_S) as client:
            for body in (b"{not json", b"[]", b'{"query": 5}', b'{"query": "{", "variables": 1}'):
                reply = await client.post(
                    gateway.http_url,
                    content=body,
                    headers={
                        "Authorization": f"Bearer {token('admin')}",
                        "Accept": "text/event-stream",
                        "Content-Type": "application/json",
                    },
                )
                assert reply.status_code == 400, body
            assert (await client.get(f"http://127.0.0.1:{gateway.port}/healthz")).status_code == 200


# --- GraphQL over SSE (distinct connections mode) -----------------------------------------


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    """(event, data) pairs of a text/event-stream response."""
    kind, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            kind = line.partition(":")[2].strip()
        elif line.startswith("data:"):
            data = line.partition(":")[2].strip()
        elif line == "" and kind:
            yield kind, data
            kind, data = "", ""


@asynccontextmanager
async def sse(gateway: Gateway, bearer: str, document: str) -> AsyncIterator[httpx.Response]:
    headers = {"Authorization": f"Bearer {bearer}", "Accept": "text/event-stream"}
    async with (
        httpx.AsyncClient(timeout=DEADLINE_S) as client,
        client.stream("POST", gateway.http_url, json={"query": document}, headers=headers) as r,
    ):
        yield r


async def test_sse_streams_a_partners_shipments_only(
    serve: Serve, scm_emulator: ErpEmulator
) -> None:
    carriers = shipments_by_carrier(scm_emulator)
    async with serve() as gateway:
        document = f"subscription {{ shipmentChanged {{ {SHIPMENT_FIELDS} }} }}"
        async with sse(gateway, token("partner", partner_id="DHL"), document) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            events = sse_events(response)
            first = asyncio.ensure_future(anext(events))
            await until(lambda: gateway.bus.subscribers == 1, "the SSE subscription")
            gateway.bus.publish(change("erp", "shipment", carriers["UPS"][0]))
            gateway.bus.publish(change("erp", "shipment", carriers["DHL"][0]))
            kind, data = await asyncio.wait_for(first, DEADLINE_S)
        await until(lambda: gateway.bus.subscribers == 0, "the subscription to end")
    assert kind == "next"
    assert json.loads(data)["data"]["shipmentChanged"]["id"] == carriers["DHL"][0]


async def test_sse_refuses_a_denied_field_and_a_missing_token(serve: Serve) -> None:
    async with serve() as gateway:
        partner = token("partner", partner_id="DHL")
        async with sse(gateway, partner, "subscription { orderChanged { id } }") as response:
            events = [e async for e in sse_events(response)]
        assert [kind for kind, _ in events] == ["next", "complete"]
        assert "orderChanged" in json.loads(events[0][1])["errors"][0]["message"]
        async with httpx.AsyncClient(timeout=DEADLINE_S) as client:
            reply = await client.post(
                gateway.http_url,
                json={"query": "subscription { shipmentChanged { id } }"},
                headers={"Accept": "text/event-stream"},
            )
        assert reply.status_code == 401


async def test_sse_completes_with_an_error_when_the_token_expires(serve: Serve) -> None:
    async with serve() as gateway:
        short = token("logistics", ttl=2)
        async with sse(gateway, short, "subscription { shipmentChanged { id } }") as response:
            events = [e async for e in sse_events(response)]
        assert gateway.bus.subscribers == 0
    assert [kind for kind, _ in events] == ["next", "complete"]
    assert json.loads(events[0][1])["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"


async def _orders(gateway: Gateway) -> list[tuple[str, str]]:
    async with httpx.AsyncClient(timeout=DEADLINE_S) as client:
        reply = await client.post(
            gateway.http_url,
            json={"query": "{ orders(first: 20) { nodes { id customer { id } } } }"},
            headers={"Authorization": f"Bearer {token('admin')}"},
        )
    nodes = reply.json()["data"]["orders"]["nodes"]
    return [(n["id"], n["customer"]["id"]) for n in nodes if n["customer"]]


async def _some_order_id(gateway: Gateway) -> str:
    return (await _orders(gateway))[0][0]


async def test_a_backend_down_ends_the_subscription_with_its_error_not_a_crash(
    serve: Serve, scm_emulator: ErpEmulator
) -> None:
    name = shipments_by_carrier(scm_emulator)["DHL"][0]
    async with serve() as gateway:
        document = "subscription { shipmentChanged { id } }"
        async with sse(gateway, token("logistics"), document) as response:
            events = sse_events(response)
            first = asyncio.ensure_future(anext(events))
            await until(lambda: gateway.bus.subscribers == 1, "the SSE subscription")
            scm_emulator.controls.update({"down": True})
            gateway.bus.publish(change("erp", "shipment", name))
            kind, data = await asyncio.wait_for(first, DEADLINE_S)
            rest = [e async for e in events]
        scm_emulator.controls.update({"down": False})
        assert gateway.bus.subscribers == 0
    error = json.loads(data)["errors"][0]
    assert kind == "next"
    assert error["extensions"]["code"] == "BACKEND_UNAVAILABLE"
    assert "ERP" in error["message"]
    assert [k for k, _ in rest] == ["complete"]
