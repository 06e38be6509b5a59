"""`crossdock demo` runs with notifications on: its emulations notify its gateway, so a change
made through the Zoho emulation's own API reaches a subscriber, over real sockets."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import httpx

from backends.zoho.app import ZohoSettings
from gateway.cli.demo import demo_running
from tests.gateway.test_subscriptions import sse_events

DEADLINE_S = 20.0


async def crm_user(base: str, z: ZohoSettings) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=DEADLINE_S)
    form = {
        "grant_type": "refresh_token",
        "client_id": z.client_id,
        "client_secret": z.client_secret,
        "refresh_token": z.refresh_token,
    }
    token = (await client.post("/oauth/v2/token", data=form)).json()["access_token"]
    client.headers["Authorization"] = f"Zoho-oauthtoken {token}"
    return client


async def channel_of(crm: httpx.AsyncClient) -> dict[str, object] | None:
    reply = await crm.get("/crm/v8/actions/watch")
    if reply.status_code != 200:
        return None
    channels: list[dict[str, object]] = reply.json()["watch"]
    return channels[0] if channels else None


async def test_a_crm_change_reaches_a_demo_subscriber(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    async with demo_running(
        data_dir=tmp_path, scale=0.02, env=env, port=0, emulation_ports=(0, 0)
    ) as demo:
        base = demo.url.removesuffix("/graphql")
        crm = await crm_user(demo.emulations.zoho_url, demo.emulations.zoho)
        channel = None
        for _ in range(int(DEADLINE_S / 0.05)):  # registered in the background at startup
            channel = await channel_of(crm)
            if channel is not None:
                break
            await asyncio.sleep(0.05)
        assert channel is not None
        assert channel["notify_url"] == f"{base}/hooks/zoho"
        orders = await crm.get("/crm/v8/Sales_Orders", params={"fields": "id", "per_page": 1})
        order_id = orders.json()["data"][0]["id"]
        headers = {
            "Authorization": f"Bearer {demo.tokens['admin']}",
            "Accept": "text/event-stream",
        }
        document = {"query": "subscription { orderChanged { id status } }"}
        async with (
            httpx.AsyncClient(timeout=DEADLINE_S) as http,
            http.stream("POST", demo.url, json=document, headers=headers) as stream,
        ):

            async def first_event() -> dict[str, Any]:
                async for kind, data in sse_events(stream):
                    if kind == "next":
                        event: dict[str, Any] = json.loads(data)
                        return event
                raise AssertionError("the stream ended without an event")

            reader = asyncio.create_task(first_event())
            async with asyncio.timeout(DEADLINE_S):
                while not reader.done():  # until the subscriber hears of a change
                    update = {"data": [{"Status": "Approved"}]}
                    await crm.put(f"/crm/v8/Sales_Orders/{order_id}", json=update)
                    await asyncio.wait([reader], timeout=0.5)
            event = reader.result()
        await crm.aclose()
    assert event["data"]["orderChanged"]["id"] == order_id


async def test_an_account_edited_in_the_crm_reaches_the_erp_in_the_demo(tmp_path: Path) -> None:
    """The whole path over sockets: Zoho's callback, the sync inbox, rule 1 writing ERPNext."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    async with demo_running(
        data_dir=tmp_path, scale=0.02, env=env, port=0, emulation_ports=(0, 0)
    ) as demo:
        crm = await crm_user(demo.emulations.zoho_url, demo.emulations.zoho)
        erp = httpx.AsyncClient(base_url=demo.emulations.erp_url, timeout=DEADLINE_S)
        e = demo.emulations.erp
        erp.headers["Authorization"] = f"token {e.api_key}:{e.api_secret}"
        accounts = await crm.get("/crm/v8/Accounts", params={"fields": "id", "per_page": 1})
        account_id = accounts.json()["data"][0]["id"]
        customers = await erp.get(
            "/api/resource/Customer",
            params={"filters": json.dumps([["custom_crm_account_id", "=", account_id]])},
        )
        [customer] = customers.json()["data"]
        city = f"Potsdam-{tmp_path.name[-6:]}"  # a value no seed holds
        async with asyncio.timeout(DEADLINE_S):
            while True:  # registered in the background at startup
                if await channel_of(crm) is not None:
                    break
                await asyncio.sleep(0.05)
            update = {"data": [{"Billing_City": city}]}
            assert (await crm.put(f"/crm/v8/Accounts/{account_id}", json=update)).is_success
            while True:  # Zoho's callback, the inbox, rule 1
                if city in await billing_cities(erp, customer["name"]):
                    break
                await asyncio.sleep(0.05)
        await crm.aclose()
        await erp.aclose()


async def billing_cities(erp: httpx.AsyncClient, customer: str) -> set[str]:
    reply = await erp.get(
        "/api/resource/Address",
        params={
            "fields": json.dumps(["city", "address_type"]),
            "filters": json.dumps([["Dynamic Link", "link_name", "=", customer]]),
        },
    )
    return {a["city"] for a in reply.json()["data"] if a["address_type"] == "Billing"}
