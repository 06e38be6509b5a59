"""What each sync rule did, read back from the inbox after real changes: two account edits
applied (one a minute after it arrived), one that fails until it is parked dead, one still
waiting; the lag of the applied ones and the failures by code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from resolvers.sync.insights import sync_insights
from tests.support.saga import Systems
from tests.sync.conftest import SyncRig

ERP_CUSTOMER = r"^/api/resource/Customer"


async def test_applied_failing_dead_and_waiting_changes_per_rule(
    systems: Systems, sync: SyncRig
) -> None:
    start = datetime.fromtimestamp(sync.clock(), UTC) - timedelta(seconds=1)
    northwind, other = systems.accounts["northwind"], systems.accounts["tiny"]
    await sync.crm_put("Accounts", northwind, {"Account_Name": "Northwind GmbH"})
    await sync.notify("crm", "account", northwind)
    sync.clock.now += 60  # applied a minute after it arrived
    await sync.processor.drain()
    await sync.crm_put("Accounts", northwind, {"Account_Name": "Northwind AG"})
    await sync.notify("crm", "account", northwind)
    await sync.processor.drain()

    systems.scm_faults.add("GET", ERP_CUSTOMER, "error")
    systems.scm_faults.add("POST", ERP_CUSTOMER, "error")
    systems.scm_faults.add("PUT", ERP_CUSTOMER, "error")
    await sync.notify("crm", "account", other)
    await sync.processor.drain()
    inbox = sync.processor.inbox
    rules = sync.processor.rules
    until = datetime.fromtimestamp(sync.clock(), UTC) + timedelta(hours=2)
    failing = await sync_insights(inbox, rules, since=start, until=until)  # type: ignore[arg-type]
    for _ in range(4):  # past its retries: parked dead
        sync.clock.now += 3600
        await sync.processor.drain()
    systems.scm_faults.clear()
    await sync.notify("erp", "stock", "SKU-A::Stores - AC")  # not processed yet
    until = datetime.fromtimestamp(sync.clock(), UTC) + timedelta(hours=1)
    ended = await sync_insights(inbox, rules, since=start, until=until)  # type: ignore[arg-type]

    accounts = {r.rule: r for r in failing.rules}["account_to_customer"]
    assert (accounts.applied, accounts.failing, accounts.dead) == (2, 1, 0)
    assert accounts.failures == (("BACKEND_UNAVAILABLE", 1),)
    accounts = {r.rule: r for r in ended.rules}["account_to_customer"]
    assert (accounts.applied, accounts.failing, accounts.dead, accounts.waiting) == (2, 0, 1, 0)
    assert accounts.failures == (("BACKEND_UNAVAILABLE", 1),)
    assert accounts.lag.count == 2
    assert accounts.lag.max_s == 60.0
    assert accounts.lag.median_s == 30.0
    stock = {r.rule: r for r in ended.rules}["stock_below_reorder"]
    assert (stock.waiting, stock.applied) == (1, 0)
    assert ended.changes == 4
    assert dict(ended.by_state) == {"done": 2, "dead": 1, "pending": 1}
    assert [r.rule for r in ended.rules] == [r.name for r in rules]

    later = await sync_insights(inbox, rules, since=until, until=until + timedelta(hours=1))  # type: ignore[arg-type]
    assert later.changes == 0
    assert all(r.applied == r.dead == 0 for r in later.rules)
