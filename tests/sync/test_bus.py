from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from resolvers.sync import Change, ChangeBus
from resolvers.sync.bus import Overflow


def change(record_id: str) -> Change:
    return Change(
        system="erp",
        entity="shipment",
        record_id=record_id,
        operation="update",
        origin="notification",
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


async def test_every_subscriber_gets_every_change_published_after_it_subscribed() -> None:
    bus = ChangeBus()
    bus.publish(change("before"))
    async with bus.subscribe() as first, bus.subscribe() as second:
        bus.publish(change("a"))
        bus.publish(change("b"))
        bus.close()
        assert [c.record_id async for c in first] == ["a", "b"]
        assert [c.record_id async for c in second] == ["a", "b"]
    assert bus.subscribers == 0


async def test_a_subscriber_that_falls_behind_is_told_and_dropped_the_others_go_on() -> None:
    bus = ChangeBus(queue_size=2)
    async with bus.subscribe() as slow, bus.subscribe() as fast:
        bus.publish(change("1"))
        assert (await anext(fast)).record_id == "1"
        bus.publish(change("2"))
        bus.publish(change("3"))
        assert bus.subscribers == 1
        with pytest.raises(Overflow):
            await anext(slow)
        assert [(await anext(fast)).record_id for _ in range(2)] == ["2", "3"]


async def test_leaving_the_block_unsubscribes() -> None:
    bus = ChangeBus()
    async with bus.subscribe():
        assert bus.subscribers == 1
    assert bus.subscribers == 0
    bus.publish(change("x"))  # nobody listening: nothing to do
    await asyncio.sleep(0)
