"""`python -m bench.sync_rules [--accounts N]`: how many changes a second the sync processor
applies, in process (both emulations over httpx.ASGITransport, the inbox in a temp file).

Three passes over N edited CRM accounts (rule 1, account → ERP customer and two addresses):
`create` (customer and addresses written), `in step` (the same changes again, unversioned:
read, compare, nothing written), `no rule` (the ERP customers' own notifications: no rule, no
read: the inbox's own cost, fsync included). It measures the processor and the rules with
the backends' own cost but no network, so it is an upper bound for one gateway process;
prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from backends.erpnext.app import ErpEmulator, ErpSettings
from backends.erpnext.store import ErpStore
from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from resolvers.erpnext import ERPNext, ERPNextOptions
from resolvers.sync import Change
from resolvers.sync.change import Entity, System
from resolvers.sync.inbox import SqliteInbox
from resolvers.sync.processor import Processor
from resolvers.sync.rules import RuleContext, RuleSettings, build_rules
from resolvers.zoho import ZohoCRM, ZohoOptions

ZOHO = ZohoOptions(
    accounts_url="http://zoho.test",
    api_domain="http://zoho.test",
    client_id="crossdock-demo",
    client_secret="crossdock-demo-secret",
    refresh_token="crossdock-demo-refresh",
)
ERP = ERPNextOptions(
    base_url="http://erp.test", api_key="crossdock-demo", api_secret="crossdock-demo-secret"
)


def _accounts(store: ZohoStore, n: int) -> list[str]:
    rows = [
        {
            "Account_Name": f"Bench Account {i}",
            "Billing_Street": f"{i} Main Street",
            "Billing_City": "Berlin",
            "Billing_Country": "Germany",
            "Shipping_Street": f"{i} Dock Road",
            "Shipping_City": "Hamburg",
            "Shipping_Country": "Germany",
        }
        for i in range(n)
    ]
    return [str(i) for i in store.insert("Accounts", rows)]


def _erp(store: ErpStore) -> None:
    company = {"name": "Acme Corp", "company_name": "Acme Corp", "abbr": "AC"}
    store.insert("Company", [{**company, "default_currency": "USD"}])


def _change(system: System, entity: Entity, record_id: str) -> Change:
    now = datetime.now(UTC)
    return Change(system, entity, record_id, "update", "notification", now)


async def _pass(processor: Processor, changes: list[Change]) -> tuple[float, int]:
    for change in changes:
        await processor.inbox.put(change)
    started = time.perf_counter()
    claimed = await processor.drain()
    return time.perf_counter() - started, claimed


async def run(n: int) -> list[tuple[str, int, float]]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        zstore, estore = ZohoStore(root / "zoho.sqlite3"), ErpStore(root / "erp.sqlite3")
        ids = _accounts(zstore, n)
        _erp(estore)
        zoho, erp = ZohoEmulator(zstore, ZohoSettings()), ErpEmulator(estore, ErpSettings())
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=zoho.app)) as zc,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=erp.app)) as ec,
        ):
            crm = ZohoCRM(zc, ZOHO)
            scm = ERPNext(ec, ERP)
            inbox = SqliteInbox(root / "sync.sqlite")
            processor = Processor(inbox, build_rules(RuleSettings()), RuleContext(crm, scm))
            accounts = [_change("crm", "account", i) for i in ids]
            rows = []
            for label, changes in (("create", accounts), ("in step", accounts)):
                seconds, claimed = await _pass(processor, changes)
                rows.append((label, claimed, seconds))
            customers = await scm.list_customers(first=500, after=None)
            echo = [_change("erp", "customer", c.name) for c in customers.items]
            seconds, claimed = await _pass(processor, echo)
            rows.append(("no rule (ERP customer)", claimed, seconds))
            inbox.close()
        zstore.close()
        estore.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sync_rules")
    parser.add_argument("--accounts", type=int, default=200)
    args = parser.parse_args()
    rows = asyncio.run(run(args.accounts))
    print(f"sync processor, in process ({platform.python_version()}, {platform.machine()})\n")
    print("| pass | changes | seconds | changes/s |\n|---|---|---|---|")
    for label, claimed, seconds in rows:
        print(f"| {label} | {claimed} | {seconds:.2f} | {claimed / seconds:.0f} |")


if __name__ == "__main__":
    main()
