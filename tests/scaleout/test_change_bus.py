"""The change bus across processes over a real Redis (resolvers.sync.redis_bus).

Two `RedisChangeBus`es, each with its own Redis client, stand for two replicas. Each
subscriber hears each change once, in publish order: its own process's changes at publish
(not again from Redis), the other's from Redis. Whether a change was heard twice is decided
by a sentinel published later by the other bus: every reader reads the stream in the order
Redis added the entries, so an echo of a bus's own change would arrive before the sentinel.
A reader cut off from Redis (a proxy between it and Redis is cut, then mended) catches up
with what was added meanwhile; what was trimmed meanwhile is counted and logged as missed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

import pytest
import redis.asyncio

from resolvers.state.errors import StateUnavailable
from resolvers.sync import Change
from resolvers.sync.bus_codec import encode
from resolvers.sync.redis_bus import RedisChangeBus
from tests.support.engines import RedisServer

pytestmark = pytest.mark.engines
DEADLINE_S = 20.0


def change(record_id: str) -> Change:
    return Change("erp", "shipment", record_id, "update", "notification", datetime.now(UTC))


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def bus_on(url: str, prefix: str = "test:") -> AsyncIterator[RedisChangeBus]:
    client = redis.asyncio.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
    bus = RedisChangeBus(client, key_prefix=prefix)
    await bus.start()
    try:
        await until(lambda: bus.listening, "the bus to subscribe")
        yield bus
    finally:
        await bus.aclose()
        await client.aclose()


class Heard:
    """What one subscriber heard, collected in the background."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def collect(self, bus: RedisChangeBus, ready: asyncio.Event) -> None:
        async with bus.subscribe() as changes:
            ready.set()
            async for item in changes:
                self.ids.append(item.record_id)


@asynccontextmanager
async def listening(bus: RedisChangeBus) -> AsyncIterator[Heard]:
    heard, ready = Heard(), asyncio.Event()
    task = asyncio.create_task(heard.collect(bus, ready))
    await asyncio.wait_for(ready.wait(), DEADLINE_S)
    try:
        yield heard
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_each_subscriber_hears_each_change_once_in_order(redis_server: RedisServer) -> None:
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(bus_on(redis_server.url))
        b = await stack.enter_async_context(bus_on(redis_server.url))
        on_a = await stack.enter_async_context(listening(a))
        on_b = await stack.enter_async_context(listening(b))

        for name in ("A1", "A2", "A3"):
            a.publish(change(name))
        assert a.received == 0
        await until(lambda: len(on_a.ids) == 3, "A's changes on A")
        await until(lambda: len(on_b.ids) == 3, "A's changes on B")
        b.publish(change("B1"))  # the sentinel: after it, nothing of A's may come to A again
        await until(lambda: "B1" in on_a.ids, "B's change on A")
        await until(lambda: a.sent == 3 and b.sent == 1, "every change sent")

    assert on_a.ids == ["A1", "A2", "A3", "B1"]
    assert on_b.ids == ["A1", "A2", "A3", "B1"]
    assert (a.received, b.received) == (1, 3)  # its own messages skipped by each


async def test_another_key_prefix_is_another_gateway(redis_server: RedisServer) -> None:
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(bus_on(redis_server.url, prefix="one:"))
        other = await stack.enter_async_context(bus_on(redis_server.url, prefix="two:"))
        b = await stack.enter_async_context(bus_on(redis_server.url, prefix="one:"))
        on_other = await stack.enter_async_context(listening(other))
        on_b = await stack.enter_async_context(listening(b))
        a.publish(change("A1"))
        other.publish(change("O1"))
        a.publish(change("A2"))
        await until(lambda: on_b.ids == ["A1", "A2"], "A's changes on B")
        other.publish(change("O2"))
        await until(lambda: on_other.ids == ["O1", "O2"], "the other gateway's own changes")
    assert on_b.ids == ["A1", "A2"]


async def test_a_malformed_message_is_dropped_and_the_next_heard(
    redis_server: RedisServer,
) -> None:
    async with bus_on(redis_server.url) as bus, listening(bus) as heard:
        client = redis.asyncio.Redis.from_url(redis_server.url)
        try:
            await client.xadd(bus.channel, {"m": b"\x80\x04K\x01."})  # a pickle: refused
            await client.xadd(bus.channel, {"m": b'{"v": 1, "from": "x", "entity": "invoice"}'})
            await client.xadd(bus.channel, {"m": encode(change("no-seq"), sender="x", seq=1)[:-5]})
        finally:
            await client.aclose()
        async with bus_on(redis_server.url) as other:
            other.publish(change("O1"))
            await until(lambda: heard.ids == ["O1"], "the well-formed change")
        assert bus.received == 1


async def test_changes_still_waiting_at_shutdown_are_sent(redis_server: RedisServer) -> None:
    async with bus_on(redis_server.url) as b, listening(b) as on_b:
        async with bus_on(redis_server.url) as a:
            for name in ("A1", "A2", "A3"):
                a.publish(change(name))
        assert a.sent == 3  # sent before its tasks stopped
        await until(lambda: len(on_b.ids) == 3, "A's last changes on B")
    assert on_b.ids == ["A1", "A2", "A3"]


async def test_a_message_sent_again_is_heard_once(redis_server: RedisServer) -> None:
    """A publisher whose reply was lost sends its batch again: the sequence number tells."""
    first, second, third = (
        encode(change(name), sender="other", seq=seq)
        for name, seq in (("S1", 1), ("S2", 2), ("S3", 3))
    )
    async with bus_on(redis_server.url) as bus, listening(bus) as heard:
        client = redis.asyncio.Redis.from_url(redis_server.url)
        try:
            for data in (first, second, first, second, third):
                await client.xadd(bus.channel, {"m": data})
        finally:
            await client.aclose()
        await until(lambda: "S3" in heard.ids, "the last change")
    assert heard.ids == ["S1", "S2", "S3"]


async def test_a_lost_redis_fails_the_probe_and_the_bus_reconnects() -> None:
    with RedisServer.start() as server:
        async with bus_on(server.url) as a, bus_on(server.url) as b, listening(b) as on_b:
            await a.probe()  # subscribed: ready
            server.stop()
            await until(lambda: not a.listening, "A to notice Redis is gone")
            with pytest.raises(StateUnavailable, match="not reading Redis stream"):
                await a.probe()
            a.publish(change("while-gone"))  # heard locally at once, sent once Redis is back
            server.run()  # the same port
            await until(lambda: a.listening and b.listening, "both buses to resubscribe")
            await a.probe()
            a.publish(change("after"))
            await until(lambda: "after" in on_b.ids, "a change after the restart")
            await until(lambda: a.sent == 2, "both changes sent")
    # B reads on from its last entry: "while-gone", sent by A once Redis was back, reaches it
    assert on_b.ids == ["while-gone", "after"]


class Link:
    """A TCP proxy between one bus and Redis that the test cuts (every connection closed, new
    ones refused) and mends: a network partition of that replica only."""

    def __init__(self, redis_url: str) -> None:
        self.target = redis_url.split("//", 1)[1].split("/", 1)[0]
        self.cut_off = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}/0"

    async def __aexit__(self, *exc: object) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        self.cut_off = True
        for writer in list(self._writers):
            writer.transport.abort()

    def mend(self) -> None:
        self.cut_off = False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_off:
            writer.transport.abort()
            return
        host, port = self.target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.transport.abort()


async def test_a_replica_cut_off_from_redis_catches_up_on_what_it_missed(
    redis_server: RedisServer,
) -> None:
    link = Link(redis_server.url)
    async with link as through_link, AsyncExitStack() as stack:
        a = await stack.enter_async_context(bus_on(redis_server.url))
        b = await stack.enter_async_context(bus_on(through_link))
        on_b = await stack.enter_async_context(listening(b))
        a.publish(change("A1"))
        await until(lambda: on_b.ids == ["A1"], "A1 on B")

        link.cut()  # B alone is cut off; A goes on publishing
        await until(lambda: not b.listening, "B to notice")
        with pytest.raises(StateUnavailable, match="not reading Redis stream"):
            await b.probe()
        for name in ("A2", "A3", "A4"):
            a.publish(change(name))
        await until(lambda: a.sent == 4, "A's changes in Redis")
        assert on_b.ids == ["A1"]

        link.mend()
        await until(lambda: len(on_b.ids) == 4, "B to catch up")
        await b.probe()
    assert on_b.ids == ["A1", "A2", "A3", "A4"]  # nothing missed, in order, once each
    assert b.missed == 0


async def test_changes_trimmed_before_a_cut_off_replica_came_back_are_counted_as_missed(
    redis_server: RedisServer,
) -> None:
    link = Link(redis_server.url)
    async with link as through_link, AsyncExitStack() as stack:
        a = await stack.enter_async_context(bus_on(redis_server.url))
        b = await stack.enter_async_context(bus_on(through_link))
        on_b = await stack.enter_async_context(listening(b))
        a.publish(change("A1"))
        await until(lambda: on_b.ids == ["A1"], "A1 on B")
        link.cut()
        await until(lambda: not b.listening, "B to notice")
        for name in ("A2", "A3"):
            a.publish(change(name))
        await until(lambda: a.sent == 3, "A's changes in Redis")
        await a.redis.xtrim(a.channel, maxlen=0)  # beyond the retention before B is back
        link.mend()
        await until(lambda: b.listening, "B to read again")
        a.publish(change("A4"))
        await until(lambda: "A4" in on_b.ids, "A4 on B")
    assert on_b.ids == ["A1", "A4"]
    assert b.missed == 2  # A2 and A3: told by A's sequence numbers
