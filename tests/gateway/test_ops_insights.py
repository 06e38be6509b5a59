"""Operations insights over HTTP: `syncRuleInsights` after real changes went through the
sync inbox, and both insights as BI views (`/views/order_process_insights`,
`/views/sync_rule_insights`) with the same numbers as the GraphQL fields; `ops:read` only."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette

from backends.erpnext.app import ErpEmulator
from gateway.settings import Settings
from gateway.settings.sync import SyncSettings
from resolvers.sync import Change
from resolvers.sync.inbox import Backoff
from tests.gateway.test_wiring_orders import APPROVE, PLACE, order_input
from tests.support.stack import (
    ClientFor,
    GraphQLClient,
    SeededStores,
    fresh_stores,
    order_process_settings,
)

SYNC = """query Sync($since: DateTime!) {
  syncRuleInsights(since: $since) {
    changes byState { name count } truncated
    rules { rule applied skipped retried waiting failing dead failures { name count }
            lag { count medianSeconds p95Seconds } }
  }
}"""
STEPS = """query Steps($since: DateTime!) {
  orderProcessInsights(since: $since) { steps { step durations { count } } }
}"""


@pytest.fixture
def seeded_stores(tmp_path: Path) -> SeededStores:
    return fresh_stores(tmp_path, random_seed=23)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    held = order_process_settings(tmp_path, max_auto_approve_total="0.01")  # then approved
    sync = SyncSettings(
        enabled=True,
        inbox_path=str(tmp_path / "sync.sqlite"),
        retry=Backoff(base_s=3600.0),  # a failed change stays failing for the test
    )
    return dataclasses.replace(held, sync=sync)


def an_hour_ago() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def _change(account: str) -> Change:
    now = datetime.now(UTC)
    return Change("crm", "account", account, "update", "notification", now, now)


async def test_sync_rules_and_order_steps_as_graphql_and_as_views(
    client_for: ClientFor, gateway_app: Starlette, scm_emulator: ErpEmulator
) -> None:
    admin = client_for("admin")
    order = await order_input(admin)
    placed = (await client_for("sales").data(PLACE, input=order, key="ops-1"))["placeOrder"]
    assert (await admin.data(APPROVE, id=placed["order"]["id"]))["approveOrder"]["status"] == (
        "APPROVED"
    )
    sync = gateway_app.state.sync
    customers = (await admin.data("{ customers(first: 2) { nodes { id } } }"))["customers"]
    first, second = (c["id"] for c in customers["nodes"])
    await sync.put(_change(first))
    await _until_settled(admin)
    scm_emulator.controls.update({"error_rate": 1.0})  # the second one fails
    try:
        await sync.put(_change(second))
        await _until_settled(admin)
    finally:
        scm_emulator.controls.update({"error_rate": 0.0})

    ops = client_for(None, scopes=("ops:read",))
    insights = (await ops.data(SYNC, since=an_hour_ago()))["syncRuleInsights"]
    assert insights["changes"] == 2
    rules = {r["rule"]: r for r in insights["rules"]}
    accounts = rules["account_to_customer"]
    assert accounts["applied"] + accounts["skipped"] + accounts["failing"] == 2
    assert accounts["failing"] == 1, accounts  # the one the ERP failed
    assert accounts["failures"][0]["count"] == 1
    assert accounts["lag"]["count"] == accounts["applied"]

    since = an_hour_ago()
    exported = await ops.http.get(
        "/views/sync_rule_insights.ndjson", params={"updated_since": since}
    )
    assert exported.status_code == 200, exported.text
    rows = {r["rule"]: r for r in map(json.loads, exported.text.splitlines())}
    assert set(rows) == set(rules)
    for name, rule in rules.items():
        assert rows[name]["applied"] == rule["applied"]
        assert rows[name]["failing"] == rule["failing"]
        assert rows[name]["dead"] == rule["dead"]
    assert rows["account_to_customer"]["top_failure"] == accounts["failures"][0]["name"]

    steps = (await ops.data(STEPS, since=since))["orderProcessInsights"]["steps"]
    exported = await ops.http.get(
        "/views/order_process_insights.csv", params={"updated_since": since}
    )
    assert exported.status_code == 200, exported.text
    table = list(csv.DictReader(io.StringIO(exported.text)))
    runs = {r["name"]: int(r["count"]) for r in table if r["kind"] == "step"}
    assert runs == {s["step"]: s["durations"]["count"] for s in steps}
    assert runs["validate"] == 1
    kinds = {r["kind"] for r in table}
    assert kinds == {"step", "approval_wait", "still_held", "holding_rule"}
    [wait] = [r for r in table if r["kind"] == "approval_wait"]
    assert wait["count"] == "1"  # the held order, approved since


async def _until_settled(admin: GraphQLClient) -> None:
    """The processor runs in the background (the app's lifespan): wait until no change is
    pending or being applied (each is done, or failed once)."""
    for _ in range(400):
        found = (await admin.data(SYNC, since=an_hour_ago()))["syncRuleInsights"]["byState"]
        states = {s["name"]: s["count"] for s in found}
        if states.get("pending", 0) == states.get("claimed", 0) == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the sync processor did not settle: {states}")


async def test_roles_without_ops_read_see_neither_the_fields_nor_the_views(
    client_for: ClientFor,
) -> None:
    analyst = client_for("analyst")
    body = await analyst.query(SYNC, since=an_hour_ago())
    assert body.get("data") in (None, {"syncRuleInsights": None})
    assert body["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "GRAPHQL_VALIDATION_FAILED")
    listing = (await analyst.http.get("/views")).json()["views"]
    names = {v["name"] for v in listing}
    assert not names & {"order_process_insights", "sync_rule_insights"}
    refused = await analyst.http.get("/views/sync_rule_insights.csv")
    assert refused.status_code == 404
