"""Notification knobs: drop, repeat, reorder and delay, the same way on every run for a seed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backends.notify import NotifyKnobs, Outbox
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from tests.support.receiver import Receiver
from tests.support.zoho_emulation import account, token_for


async def run(outbox: Outbox, count: int) -> list[int]:
    """Submit `count` numbered notifications and return the numbers in the order sent."""
    sent: list[int] = []
    for number in range(count):

        async def send(n: int = number) -> None:
            sent.append(n)

        outbox.submit(send)
    await outbox.drain()
    await outbox.aclose()
    return sent


async def test_the_same_seed_drops_the_same_notifications() -> None:
    first = await run(Outbox(NotifyKnobs(drop_rate=0.3, seed=7)), 50)
    second = await run(Outbox(NotifyKnobs(drop_rate=0.3, seed=7)), 50)
    other = await run(Outbox(NotifyKnobs(drop_rate=0.3, seed=8)), 50)
    assert first == second
    assert first != other
    assert 20 < len(first) < 50


async def test_a_duplicate_is_sent_twice_in_a_row() -> None:
    assert await run(Outbox(NotifyKnobs(duplicate_rate=1.0)), 3) == [0, 0, 1, 1, 2, 2]


async def test_a_held_notification_goes_after_the_next_one() -> None:
    assert await run(Outbox(NotifyKnobs(reorder_rate=1.0)), 5) == [1, 0, 3, 2, 4]


async def test_mixed_faults_are_deterministic_and_counted() -> None:
    knobs = {"drop_rate": 0.3, "duplicate_rate": 0.3, "reorder_rate": 0.3, "seed": 3}
    outboxes = [Outbox(NotifyKnobs(**knobs)) for _ in range(2)]
    runs = [await run(outbox, 40) for outbox in outboxes]
    assert runs[0] == runs[1]
    assert runs[0] != sorted(runs[0])  # some out of order
    counts = outboxes[0].counts
    assert counts["submitted"] == 40
    assert counts["sent"] == len(runs[0]) == 40 - counts["dropped"] + counts["duplicated"]


async def test_a_failing_send_is_counted_and_the_next_one_still_goes() -> None:
    outbox = Outbox()
    sent: list[str] = []

    async def broken() -> None:
        raise httpx.ConnectError("receiver down")

    async def fine() -> None:
        sent.append("fine")

    outbox.submit(broken)
    outbox.submit(fine)
    await outbox.drain()
    await outbox.aclose()
    assert sent == ["fine"]
    assert outbox.counts["failed"] == 1


# each row: a bad knob and the words of the refusal
BAD_KNOBS = [
    ({"drop_rate": 1.5}, "drop_rate must be a number in [0, 1]"),  # not a share
    ({"duplicate_rate": True}, "duplicate_rate must be a number"),  # bool is not a rate
    ({"delay_ms": -1}, "delay_ms must be a number in [0, 60000]"),  # negative sleep
    ({"seed": 1.5}, "seed must be an integer"),  # random.seed of a float is not what's meant
    ({"lose": 0.1}, "unknown notification knob(s) ['lose']"),  # a typo
]


@pytest.mark.parametrize(("values", "words"), BAD_KNOBS)
def test_a_bad_knob_is_refused_and_changes_nothing(values: dict[str, Any], words: str) -> None:
    knobs = NotifyKnobs()
    with pytest.raises(ValueError, match=re.escape(words)):
        knobs.update({"drop_rate": 0.5, **values})
    assert knobs.as_dict() == NotifyKnobs().as_dict()


@pytest.fixture
async def zoho(receiver: Receiver) -> AsyncIterator[ZohoEmulator]:
    store = ZohoStore(":memory:")
    emulator = ZohoEmulator(
        store, ZohoSettings(admin_enabled=True), notify_client=receiver.client()
    )
    yield emulator
    await emulator.aclose()
    store.close()


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


async def test_the_knobs_are_set_over_the_admin_endpoint_and_reorder_callbacks(
    zoho: ZohoEmulator, receiver: Receiver
) -> None:
    transport = httpx.ASGITransport(app=zoho.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://zoho.test") as crm:
        crm.headers["Authorization"] = f"Zoho-oauthtoken {await token_for(crm)}"
        channel = {"channel_id": "1", "events": ["Accounts.create"], "notify_url": "http://gw/h"}
        await crm.post("/crm/v8/actions/watch", json={"watch": [channel]})
        refused = await crm.post("/_emulator/notifications", json={"drop_rate": 2})
        assert refused.status_code == 400
        knobs = await crm.post("/_emulator/notifications", json={"reorder_rate": 1.0})
        assert knobs.json()["reorder_rate"] == 1.0
        ids = []
        for name in "ABCD":
            reply = await crm.post("/crm/v8/Accounts", json={"data": [account(name)]})
            ids.append(reply.json()["data"][0]["details"]["id"])
        await zoho.outbox.drain()
        shown = (await crm.get("/_emulator/notifications")).json()
    assert [b["ids"][0] for b in receiver.bodies] == [ids[1], ids[0], ids[3], ids[2]]
    assert shown["counts"] == {"submitted": 4, "reordered": 2, "sent": 4}
