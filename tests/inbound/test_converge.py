"""Both systems agree after catch-up: with 30 % of Zoho's callbacks dropped, repeated and
reordered, edits made through the Zoho API reach ERPNext through the real path (receivers or
poll → the sync inbox → the processor → rules 1 and 2), and every synced field is compared."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.settings.sync import SyncSettings
from resolvers.ports import CrmPort, ErpPort
from resolvers.sync.runtime import SyncRuntime
from tests.inbound.conftest import Stack, notifying_stack

COUNTRIES = ("Germany", "France", "United States")


@pytest.fixture
async def synced(tmp_path: Path) -> AsyncIterator[Stack]:
    sync = SyncSettings(enabled=True, inbox_path=str(tmp_path / "sync.sqlite"), idle_s=0.05)
    async with notifying_stack(tmp_path, sink=None, sync=sync) as stack:
        yield stack


def runtime(stack: Stack) -> SyncRuntime:
    sync: SyncRuntime = stack.app.state.sync
    return sync


async def settled(stack: Stack) -> None:
    """Until the inbox has nothing pending or retrying (dead changes fail the test)."""
    sync = runtime(stack)
    state = {"open": 1, "dead": 0}

    async def look() -> None:
        status = await sync.inbox.status()
        state["open"] = sum(s.pending + s.retrying for s in status.sources)
        state["dead"] = sum(s.dead for s in status.sources)

    while True:
        await sync.processor.drain()
        await look()
        if state["open"] == 0:
            break
        await asyncio.sleep(0.02)
    assert state["dead"] == 0, (await sync.inbox.status()).failed


async def edit_accounts(stack: Stack, n: int) -> list[str]:
    listed = await stack.crm_api.get("/crm/v8/Accounts", params={"fields": "id", "per_page": n})
    ids = [row["id"] for row in listed.json()["data"]][:n]
    for i, account in enumerate(ids):
        edit = {
            "Account_Name": f"Converged Account {i}",
            "Billing_Street": f"{i} Market Street",
            "Billing_City": f"Billing City {i}",
            "Billing_Code": f"{10000 + i}",
            "Billing_Country": COUNTRIES[i % 3],
            "Shipping_Street": f"{i} Dock Road",
            "Shipping_City": f"Shipping City {i}",
            "Shipping_Code": f"{20000 + i}",
            "Shipping_Country": COUNTRIES[(i + 1) % 3],
        }
        reply = await stack.crm_api.put(f"/crm/v8/Accounts/{account}", json={"data": [edit]})
        assert reply.is_success, reply.text
    return ids


async def edit_products(stack: Stack, n: int) -> list[str]:
    listed = await stack.crm_api.get("/crm/v8/Products", params={"fields": "id", "per_page": n})
    ids = [row["id"] for row in listed.json()["data"]][:n]
    for i, product in enumerate(ids):
        edit = {
            "Product_Name": f"Converged Product {i}",
            "Description": f"revised {i}",
            "Product_Active": i % 2 == 0,
        }
        reply = await stack.crm_api.put(f"/crm/v8/Products/{product}", json={"data": [edit]})
        assert reply.is_success, reply.text
    return ids


async def disagreements(
    crm: CrmPort, scm: ErpPort, accounts: list[str], products: list[str]
) -> list[str]:
    """Every synced field compared, in canonical form; one line per difference."""
    found: list[str] = []
    for account in (await crm.get_accounts(accounts)).values():
        customer = await scm.find_customer(account.id)
        if customer is None:
            found.append(f"account {account.id}: no ERP customer")
            continue
        if customer.customer_name != account.name:
            found.append(
                f"account {account.id}: name {customer.customer_name!r} != {account.name!r}"
            )
        addresses = await scm.customer_addresses(customer.name)
        for kind, wanted in (
            ("Billing", account.billing_address),
            ("Shipping", account.shipping_address),
        ):
            have = addresses.get(kind)
            if have is None or have.address != wanted:
                found.append(f"account {account.id}: {kind} {have and have.address} != {wanted}")
    catalog = await crm.get_products(products)
    items = await scm.get_items([p.sku for p in catalog.values()])
    for product in catalog.values():
        item = items.get(product.sku)
        want = (product.name, product.description or "", not product.active)
        got = item and (item.name, item.description or "", item.disabled)
        if got != want:
            found.append(f"product {product.sku}: {got} != {want}")
    return found


async def test_after_catch_up_both_systems_agree_on_every_synced_field(synced: Stack) -> None:
    stack = synced
    await stack.registered()
    poller = stack.inbound.poller
    assert poller is not None
    await poller.poll_once()  # a new installation: watermarks start now
    faults = {"drop_rate": 0.3, "duplicate_rate": 0.3, "reorder_rate": 0.3, "seed": 5}
    stack.zoho.outbox.knobs.update(faults)
    accounts = await edit_accounts(stack, 8)
    products = await edit_products(stack, 6)
    await stack.delivered()
    await settled(stack)
    assert stack.zoho.outbox.counts["dropped"] > 0
    assert stack.zoho.outbox.counts["duplicated"] > 0
    sync = runtime(stack)
    ctx = sync.processor.ctx
    before_poll = await disagreements(ctx.crm, ctx.scm, accounts, products)
    assert before_poll, "the notifications alone carried everything: the faults did not bite"
    await poller.poll_once()
    await settled(stack)
    assert await disagreements(ctx.crm, ctx.scm, accounts, products) == []
