"""The change bus across replicas: a Redis Stream behind `ChangeBus` (shared state only).

Every process (every worker of every replica) has one `RedisChangeBus` with an id of its own.

    publish(change)   delivers to this process's subscribers at once (as `ChangeBus` does),
                      then queues the change for a publisher task that XADDs it, tagged with
                      this process's id and a sequence number, to the stream
                      `<key_prefix>changes` (MAXLEN ~ `retention`), in publish order (what
                      waits is sent in one pipeline, up to BATCH)
    reader task       XREADs the stream from the last entry it read and hands every message
                      from another process to this process's subscribers; its own messages
                      are skipped (they were delivered locally already), and so is a message
                      whose sequence number was heard already from its sender (sent again
                      after a lost reply): each subscriber hears each change once, in each
                      publisher's order

A reader starts at the end of the stream (changes from before the process started are not
replayed). A reader cut off from Redis (a lost connection, a network partition, Redis
restarting) goes on, once it is back, from the last entry it read: the changes added
meanwhile reach its subscribers, in order, as long as the stream still holds them (the last
`retention` changes, ~10,000 by default). What was trimmed before it came back is missed; the
senders' sequence numbers show the gap and it is logged ("missed N changes of process …"),
and its subscribers re-read what they need, as after an `Overflow`. A lost connection is
never hidden: `probe()` (part of the state probe, so /readyz answers 503 `"failing":
["state"]`) fails until the reader reads again, the reader reconnects with backoff (0.1 s
doubling to 5 s), and the publisher keeps the changes it could not send (up to `queue_size`,
then it drops the newest and logs each drop) and sends them in order once Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict
from typing import Any

from resolvers.state.errors import StateUnavailable

from .bus import ChangeBus
from .bus_codec import BadMessage, decode, encode
from .change import Change

logger = logging.getLogger("crossdock.sync.bus")

FIRST_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0
POLL_S = 1.0  # how long one XREAD blocks waiting for an entry before asking again
RETENTION = 10_000  # entries the stream keeps (MAXLEN ~): how long a cut-off reader can catch up
BATCH = 100  # changes sent in one pipeline at most
FLUSH_S = 2.0  # at shutdown, how long changes still waiting may take to go out
SENDERS = 10_000  # senders whose last sequence number is remembered (processes come and go)


class RedisChangeBus(ChangeBus):
    """`ChangeBus` whose changes also reach the subscribers of every other process."""

    def __init__(
        self, redis: Any, *, key_prefix: str, queue_size: int = 1000, retention: int = RETENTION
    ) -> None:
        super().__init__(queue_size=queue_size)
        self.redis = redis
        self.channel = f"{key_prefix}changes"  # the stream's key
        self.retention = retention
        self._last_id: bytes | str | None = None  # the last entry read (None: not started)
        self.sender = uuid.uuid4().hex
        self._seq = 0
        self._heard: OrderedDict[str, int] = OrderedDict()  # sender -> last seq delivered
        self._outgoing: asyncio.Queue[bytes] = asyncio.Queue()
        self._outgoing_limit = max(queue_size, 1000)
        self._tasks: list[asyncio.Task[None]] = []
        self._listening = False
        self._last_error = "not reading yet"
        self.sent = 0  # messages XADDed (for tests and figures)
        self.received = 0  # messages from other processes delivered here
        self.dropped = 0  # changes not sent: the outgoing queue was full
        self.missed = 0  # changes of other processes trimmed before this one read them

    @property
    def listening(self) -> bool:
        """True while reading the stream (changes of other replicas arrive)."""
        return self._listening

    def publish(self, change: Change) -> None:
        ChangeBus.publish(self, change)
        try:
            data = encode(change, sender=self.sender, seq=self._seq + 1)
        except ValueError as exc:
            logger.error("change bus: %s %s not sent to other replicas: %s", *change.key[1:], exc)
            return
        if self._outgoing.qsize() >= self._outgoing_limit:
            self.dropped += 1
            logger.error(
                "change bus: %d changes wait for Redis; %s %s not sent to other replicas",
                self._outgoing.qsize(),
                *change.key[1:],
            )
            return
        self._seq += 1
        self._outgoing.put_nowait(data)

    async def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._listen(), name="change-bus-listener"),
                asyncio.create_task(self._send(), name="change-bus-publisher"),
            ]

    async def aclose(self) -> None:
        """End the subscriptions, send what waits (for up to FLUSH_S), stop both tasks."""
        self.close()
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_S):
                    await self._outgoing.join()
        for task in self._tasks:
            # again until it ends: a cancellation that lands inside a Redis call can be
            # absorbed by the client, and the task would wait for the next change forever
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                task.result()
        self._tasks = []
        self._listening = False

    async def probe(self) -> None:
        """StateUnavailable while not reading (other replicas' changes arrive late)."""
        if not self._listening:
            raise StateUnavailable(
                f"the change bus is not reading Redis stream {self.channel} "
                f"({self._last_error}): subscribers here hear other replicas' changes only "
                "once it reads again; reconnecting with backoff, check Redis ([state] redis_url)"
            )

    async def _listen(self) -> None:
        backoff = FIRST_BACKOFF_S
        while True:
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: report, wait, reconnect
                self._listening = False
                self._last_error = f"{type(exc).__name__}: {exc}"
                logger.error(
                    "change bus: lost Redis stream %s (%s); reconnecting in %.1f s",
                    self.channel,
                    self._last_error,
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
            else:
                backoff = FIRST_BACKOFF_S

    async def _listen_once(self) -> None:
        latest = await self.redis.xrevrange(self.channel, count=1)  # Redis answers again
        if self._last_id is None:  # first start: from the end (nothing from before us)
            self._last_id = latest[0][0] if latest else "0-0"
        self._listening = True
        logger.info(
            "change bus: reading Redis stream %s after entry %s", self.channel, _text(self._last_id)
        )
        try:
            while True:
                answer = await self.redis.xread(
                    {self.channel: self._last_id}, count=BATCH, block=int(POLL_S * 1000)
                )
                for _stream, entries in answer or ():
                    for entry_id, fields in entries:
                        self._last_id = entry_id
                        self._deliver(fields.get(b"m") or fields.get("m") or b"")
        finally:
            self._listening = False

    def _deliver(self, data: bytes) -> None:
        try:
            sender, seq, change = decode(data)
        except BadMessage as exc:
            logger.error("change bus: a message on %s was refused: %s", self.channel, exc)
            return
        if sender == self.sender:
            return  # this process's own change: its subscribers had it at publish
        last = self._heard.get(sender, 0)
        if seq <= last:
            return  # sent again (a retry after a lost reply): heard already
        if last and seq > last + 1:
            self.missed += seq - last - 1
            logger.warning(
                "change bus: missed %d changes of process %s (trimmed from stream %s before "
                "this one read them); subscribers re-read what they need",
                seq - last - 1,
                sender,
                self.channel,
            )
        self._heard[sender] = seq
        self._heard.move_to_end(sender)
        if len(self._heard) > SENDERS:
            self._heard.popitem(last=False)
        self.received += 1
        ChangeBus.publish(self, change)

    async def _send(self) -> None:
        while True:
            batch = [await self._outgoing.get()]
            while len(batch) < BATCH and not self._outgoing.empty():
                batch.append(self._outgoing.get_nowait())
            backoff = FIRST_BACKOFF_S
            while True:
                try:
                    await self._publish(batch)
                    self.sent += len(batch)
                    for _ in batch:
                        self._outgoing.task_done()
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # keep the change, retry in order
                    logger.error(
                        "change bus: XADD to %s failed (%s: %s); %d changes waiting, retrying "
                        "in %.1f s",
                        self.channel,
                        type(exc).__name__,
                        exc,
                        self._outgoing.qsize() + len(batch),
                        backoff,
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _publish(self, batch: list[bytes]) -> None:
        """XADD each message, in order, in one round trip. Sent again whole after a failure:
        what already went out is recognised by its sequence number and skipped."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for data in batch:
                pipe.xadd(self.channel, {"m": data}, maxlen=self.retention, approximate=True)
            await pipe.execute()


def _text(entry_id: bytes | str) -> str:
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id
