"""After a scripted mix (queries, an export, an order placed then approved, a failing
backend), `/metrics` parses with Prometheus' own text parser and its counters match what
was counted elsewhere: the requests each emulation served, the rows and bytes the export
sent, the steps the journal holds, the keys the loaders asked for."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from starlette.applications import Starlette

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from gateway.settings import Settings
from tests.gateway.test_wiring_orders import APPROVE, PLACE, PROCESS, order_input
from tests.support.stack import (
    ClientFor,
    SeededStores,
    fresh_stores,
    order_process_settings,
)

ORDERS = "query Orders { orders(first: 8) { nodes { number customer { id industry } } } }"


@pytest.fixture
def seeded_stores(tmp_path: Path) -> SeededStores:
    """Fresh, small data: the order process writes to both systems."""
    return fresh_stores(tmp_path, random_seed=21)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # every order is held for approval
    return order_process_settings(tmp_path, max_auto_approve_total="0.01")


def samples(text: str) -> list[Sample]:
    """Every sample of the exposition, read by prometheus-client's own parser."""
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def total(found: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels`."""
    return sum(
        s.value
        for s in found
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


async def test_counters_match_the_emulations_the_export_and_the_journal(
    client_for: ClientFor,
    gateway_app: Starlette,
    crm_emulator: ZohoEmulator,
    scm_emulator: ErpEmulator,
) -> None:
    admin, sales = client_for("admin"), client_for("sales")
    order = await order_input(admin)  # warms the CRM token
    http: httpx.AsyncClient = admin.http
    before = samples((await http.get("/metrics")).text)  # counted from here on
    crm_emulator.stats.reset()
    scm_emulator.stats.reset()

    orders = (await admin.data(ORDERS))["orders"]["nodes"]
    customers = {o["customer"]["id"] for o in orders if o["customer"]}
    await admin.data("query Houses { warehouses { id name } }")
    export = await http.get("/views/stock_levels.csv", params={"limit": "15"})
    assert export.status_code == 200
    placed = (await sales.data(PLACE, input=order, key="mix-1"))["placeOrder"]
    assert placed["status"] == "PENDING_APPROVAL", placed
    approved = (await admin.data(APPROVE, id=placed["order"]["id"]))["approveOrder"]
    assert approved["status"] == "APPROVED"
    steps = (await admin.data(PROCESS, id=placed["processId"]))["orderProcess"]["steps"]
    scm_emulator.controls.update({"error_rate": 1.0})
    try:
        failed = await admin.query("query Houses { warehouses { id } }")
    finally:
        scm_emulator.controls.update({"error_rate": 0.0})
    assert failed["errors"][0]["extensions"]["code"] == "BACKEND_UNAVAILABLE"
    served = {"crm": crm_emulator.stats.total, "scm": scm_emulator.stats.total}

    scraped = await http.get("/metrics")
    assert scraped.status_code == 200
    found = samples(scraped.text)

    tries = "crossdock_backend_requests_total"
    for system, count in served.items():
        assert total(found, tries, system=system) - total(before, tries, system=system) == count
    assert total(found, tries, system="scm", outcome="500") == 2  # a try and its retry
    assert total(found, "crossdock_backend_retries_total", system="scm") >= 1

    ops = "crossdock_graphql_operations_total"
    assert total(found, ops, operation="Orders", type="query", outcome="ok") == 1
    assert total(found, ops, operation="Houses", outcome="ok") == 1
    assert total(found, ops, operation="Houses") == 2  # the failed one: "error" or "refused"
    assert total(found, "crossdock_graphql_errors_total", code="BACKEND_UNAVAILABLE") == 1

    rows = export.text.count("\n") - 1  # less the header line
    labels = {"view": "stock_levels", "format": "csv"}
    assert total(found, "crossdock_view_exports_total", **labels, outcome="complete") == 1
    assert total(found, "crossdock_view_export_rows_total", **labels) == rows == 15
    assert total(found, "crossdock_view_export_bytes_total", **labels) == len(export.content)

    ended = Counter((s["step"], s["state"]) for s in steps if s["state"] in ("done", "failed"))
    assert ended[("validate", "done")] == 1
    timed = "crossdock_order_process_step_duration_seconds_count"
    for (step, state), count in ended.items():
        assert total(found, timed, step=step, outcome=state) == count, step
    assert total(found, timed) == sum(ended.values())

    batches = "crossdock_loader_batch_keys_sum"
    asked = total(found, batches, loader="accounts", system="crm") + total(
        found, batches, loader="get_accounts", system="crm"
    )
    assert asked == len(customers) > 0  # one batch of the distinct customers
    assert total(found, "crossdock_loader_batch_keys_count", loader="other") == 0
