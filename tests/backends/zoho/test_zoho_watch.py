"""The Notification API of the Zoho emulation: watch channels and the callbacks they get."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from backends.zoho.watch import Channel
from tests.support.receiver import Receiver
from tests.support.zoho_emulation import BASE_URL, account, token_for

HOOK = "http://gateway.test/hooks/zoho?tenant=t1"


def watch(channel_id: str = "1000000068001", **extra: Any) -> dict[str, Any]:
    return {
        "channel_id": channel_id,
        "events": ["Accounts.all", "Sales_Orders.edit", "Products.all"],
        "notify_url": HOOK,
        "token": "secret-token-1",
        "return_affected_field_values": True,
        **extra,
    }


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def emulator(store: ZohoStore, receiver: Receiver) -> AsyncIterator[ZohoEmulator]:
    emulator = ZohoEmulator(store, ZohoSettings(), notify_client=receiver.client())
    yield emulator
    await emulator.aclose()


@pytest.fixture
async def crm(emulator: ZohoEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        client.headers["Authorization"] = f"Zoho-oauthtoken {await token_for(client)}"
        yield client


async def subscribe(crm: httpx.AsyncClient, **extra: Any) -> httpx.Response:
    return await crm.post("/crm/v8/actions/watch", json={"watch": [watch(**extra)]})


async def test_subscribing_answers_201_with_one_resource_per_module(crm: httpx.AsyncClient) -> None:
    reply = await subscribe(crm)
    assert reply.status_code == 201
    item = reply.json()["watch"][0]
    assert item["code"] == "SUCCESS"
    events = item["details"]["events"]
    assert [e["resource_name"] for e in events] == ["Accounts", "Sales_Orders", "Products"]
    assert {e["channel_id"] for e in events} == {"1000000068001"}
    listed = (await crm.get("/crm/v8/actions/watch")).json()["watch"]
    assert listed[0]["events"] == ["Accounts.all", "Sales_Orders.edit", "Products.all"]


async def test_an_expiry_beyond_a_week_becomes_one_hour(crm: httpx.AsyncClient) -> None:
    far = (datetime.now(UTC) + timedelta(days=8)).isoformat(timespec="seconds")
    near = (datetime.now(UTC) + timedelta(days=6)).isoformat(timespec="seconds")
    for expiry, lower, upper in ((far, 0.9, 1.1), (near, 6 * 24 - 0.1, 6 * 24 + 0.1)):
        await crm.delete("/crm/v8/actions/watch", params={"channel_ids": "1000000068001"})
        reply = await subscribe(crm, channel_expiry=expiry)
        text = reply.json()["watch"][0]["details"]["events"][0]["channel_expiry"]
        hours = (datetime.fromisoformat(text) - datetime.now(UTC)).total_seconds() / 3600
        assert lower < hours < upper


# each row: a bad watch item and the error code it gets (the other item still succeeds)
BAD_ITEMS = [
    ({"channel_id": None}, "MANDATORY_NOT_FOUND"),  # channel_id is mandatory
    ({"channel_id": "abc"}, "INVALID_DATA"),  # ids are numeric ("long")
    ({"events": ["Leads.all"]}, "INVALID_DATA"),  # a module the emulation does not have
    ({"events": ["Accounts.update"]}, "INVALID_DATA"),  # verbs are create/edit/delete/all
    ({"notify_url": "ftp://x"}, "INVALID_DATA"),  # callbacks are HTTP(S)
    ({"token": "x" * 51}, "INVALID_DATA"),  # the token is at most 50 characters
    ({"channel_expiry": "yesterday"}, "INVALID_DATA"),  # not a datetime
]


@pytest.mark.parametrize(("bad", "code"), BAD_ITEMS)
async def test_a_bad_item_fails_alone_with_207(
    crm: httpx.AsyncClient, bad: dict[str, Any], code: str
) -> None:
    items = [{**watch("1"), **bad}, watch("2")]
    reply = await crm.post("/crm/v8/actions/watch", json={"watch": items})
    assert reply.status_code == 207
    first, second = reply.json()["watch"]
    assert first["code"] == code
    assert second["code"] == "SUCCESS"


async def test_the_same_channel_twice_is_duplicate_and_put_replaces_it(
    crm: httpx.AsyncClient,
) -> None:
    await subscribe(crm)
    again = await subscribe(crm)
    assert again.status_code == 400
    assert again.json()["watch"][0]["code"] == "DUPLICATE_DATA"
    put = await crm.put(
        "/crm/v8/actions/watch", json={"watch": [watch(events=["Products.create"])]}
    )
    assert put.status_code == 200
    listed = (await crm.get("/crm/v8/actions/watch")).json()["watch"]
    assert listed[0]["events"] == ["Products.create"]


async def test_patch_removes_events_and_delete_unsubscribes(crm: httpx.AsyncClient) -> None:
    await subscribe(crm)
    patch = {"channel_id": "1000000068001", "events": ["Products.all"], "_delete_events": True}
    reply = await crm.patch("/crm/v8/actions/watch", json={"watch": [patch]})
    assert reply.status_code == 200
    listed = (await crm.get("/crm/v8/actions/watch")).json()["watch"]
    assert listed[0]["events"] == ["Accounts.all", "Sales_Orders.edit"]
    gone = await crm.delete("/crm/v8/actions/watch", params={"channel_ids": "1000000068001,42"})
    assert gone.status_code == 207
    assert [r["code"] for r in gone.json()["watch"]] == ["SUCCESS", "INVALID_DATA"]
    assert (await crm.get("/crm/v8/actions/watch")).status_code == 204


async def test_the_watch_api_needs_a_token(emulator: ZohoEmulator) -> None:
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as anonymous:
        reply = await anonymous.post("/crm/v8/actions/watch", json={"watch": [watch()]})
    assert reply.status_code == 401


async def test_an_insert_of_several_accounts_is_one_callback_naming_every_id(
    crm: httpx.AsyncClient, emulator: ZohoEmulator, receiver: Receiver
) -> None:
    await subscribe(crm)
    reply = await crm.post("/crm/v8/Accounts", json={"data": [account("A"), account("B")]})
    ids = [r["details"]["id"] for r in reply.json()["data"]]
    await emulator.outbox.drain()
    [callback] = receiver.bodies
    assert callback["ids"] == ids
    assert callback["operation"] == "insert"
    assert callback["module"] == "Accounts"
    assert callback["channel_id"] == "1000000068001"
    assert callback["token"] == "secret-token-1"
    assert callback["query_params"] == {"tenant": "t1"}
    assert callback["affected_fields"] == []
    assert receiver.requests[0].path == "/hooks/zoho"


async def test_an_update_names_the_affected_fields_and_values(
    crm: httpx.AsyncClient, emulator: ZohoEmulator, receiver: Receiver
) -> None:
    created = await crm.post("/crm/v8/Accounts", json={"data": [account("A")]})
    record_id = created.json()["data"][0]["details"]["id"]
    await subscribe(crm)
    await crm.put(f"/crm/v8/Accounts/{record_id}", json={"data": [{"Phone": "+49 30 1234"}]})
    await crm.delete("/crm/v8/Accounts", params={"ids": record_id})
    await emulator.outbox.drain()
    update, delete = receiver.bodies
    assert update["operation"] == "update"
    assert update["affected_fields"] == [{record_id: ["Phone"]}]
    assert update["affected_values"] == [
        {"record_id": record_id, "values": {"Phone": "+49 30 1234"}}
    ]
    assert delete["operation"] == "delete"
    assert delete["ids"] == [record_id]


async def test_only_the_watched_verbs_of_a_module_are_sent(
    crm: httpx.AsyncClient, emulator: ZohoEmulator, receiver: Receiver
) -> None:
    await subscribe(crm, events=["Sales_Orders.edit"])
    created = await crm.post("/crm/v8/Accounts", json={"data": [account("A")]})
    account_id = created.json()["data"][0]["details"]["id"]
    order = {"Subject": "SO", "Account_Name": {"id": account_id}}
    made = await crm.post("/crm/v8/Sales_Orders", json={"data": [order]})
    order_id = made.json()["data"][0]["details"]["id"]
    await crm.put(f"/crm/v8/Sales_Orders/{order_id}", json={"data": [{"Status": "Approved"}]})
    await emulator.outbox.drain()
    assert [(b["module"], b["operation"], b["ids"]) for b in receiver.bodies] == [
        ("Sales_Orders", "update", [order_id])
    ]


async def test_a_failed_write_sends_nothing(
    crm: httpx.AsyncClient, emulator: ZohoEmulator, receiver: Receiver
) -> None:
    await subscribe(crm)
    reply = await crm.post("/crm/v8/Accounts", json={"data": [{"Phone": "1"}]})
    assert reply.status_code == 400
    await emulator.outbox.drain()
    assert receiver.bodies == []


async def test_an_expired_channel_gets_nothing(
    crm: httpx.AsyncClient, emulator: ZohoEmulator, receiver: Receiver
) -> None:
    past = emulator.store.clock.now_ms() - 1
    emulator.channels.save(Channel("7", ("Accounts.all",), HOOK, expiry_ms=past))
    await crm.post("/crm/v8/Accounts", json={"data": [account("A")]})
    await emulator.outbox.drain()
    assert receiver.bodies == []


async def test_the_response_does_not_wait_for_the_callback(
    crm: httpx.AsyncClient, emulator: ZohoEmulator, receiver: Receiver
) -> None:
    await subscribe(crm)
    emulator.outbox.knobs.update({"delay_ms": 60_000})  # a callback a minute late
    reply = await crm.post("/crm/v8/Accounts", json={"data": [account("A")]})
    assert reply.status_code == 201
    assert receiver.bodies == []
    assert emulator.outbox.counts["submitted"] == 1  # queued, still waiting
