"""`reconciliation`, `reconciliationFindings`, `reconciliationRun` and `repairFinding` through
the gateway over HTTP, with the shipped policy (admin and data_steward may; other roles see no
such fields)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet
import pytest
from starlette.applications import Starlette

from gateway.wiring import assemble
from resolvers.ports import CRM_CANCELLED
from resolvers.reconcile.settings import ReconcileSettings
from tests.support.reconcile import Rig
from tests.support.stack import (
    GATEWAY_URL,
    ClientFor,
    GraphQLClient,
    gateway_settings,
    token_for,
)

FRESH = """query ($c: [String!]) { reconciliation(categories: $c) {
  id category severity summary fix crm { kind id } erp { kind id } values { name value } } }"""
FINDINGS = """
query Findings($first: Int, $after: String, $severity: FindingSeverity, $categories: [String!]) {
  reconciliationFindings(
    first: $first, after: $after, severity: $severity, categories: $categories
  ) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id category group rule severity summary fix fixable repair who why
      records { system kind id label customer { name } order { number status }
                product { sku name } shipment { id carrier } }
      differences { field crm erp }
    }
  }
}
"""
REPAIR = """
mutation Repair($id: ID!, $dryRun: Boolean!) {
  repairFinding(id: $id, dryRun: $dryRun) {
    findingId status message journalId
    actions { operation record { kind id } before { field value } after { field value } }
  }
}
"""


@pytest.fixture
async def gateway(rig: Rig, tmp_path: Path) -> AsyncIterator[Starlette]:
    settings = dataclasses.replace(
        gateway_settings(tmp_path),
        reconcile=ReconcileSettings(store_path=str(tmp_path / "reconcile.sqlite")),
    )
    app = assemble(settings, crm=rig.crm, scm=rig.scm)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def as_role(gateway: Starlette) -> AsyncIterator[Any]:
    opened: list[httpx.AsyncClient] = []

    def make(role: str) -> GraphQLClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway),
            base_url=GATEWAY_URL,
            headers={"Authorization": f"Bearer {token_for(role)}", "x-crossdock-csrf": "1"},
        )
        opened.append(client)
        return GraphQLClient(client)

    yield make
    for client in opened:
        await client.aclose()


async def run(gateway: Starlette) -> None:
    await gateway.state.reconciliation.service.run(trigger="test")


async def test_findings_page_with_links_into_the_graph(gateway: Starlette, as_role: Any) -> None:
    await run(gateway)
    admin = as_role("admin")

    first = (await admin.data(FINDINGS, first=2))["reconciliationFindings"]
    rest = await admin.data(FINDINGS, first=2, after=first["pageInfo"]["endCursor"])

    nodes = first["nodes"] + rest["reconciliationFindings"]["nodes"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert rest["reconciliationFindings"]["pageInfo"]["hasNextPage"] is False
    assert sorted(n["rule"] for n in nodes) == [
        "counterparts.customer_without_account",
        "counterparts.product_without_item",
        "shipments.shipment_for_cancelled_order",
    ]
    shipment = next(n for n in nodes if n["category"] == "shipment_for_cancelled_order")
    assert shipment["group"] == "SHIPMENTS"
    assert shipment["severity"] == "ERROR"
    [ship, order] = shipment["records"]
    assert ship["shipment"]["id"] == "SHIPMENT-00001"
    assert ship["order"] is None
    assert order["order"]["status"] == "CANCELLED"
    assert shipment["fixable"] is False
    assert shipment["who"]
    assert shipment["who"] in shipment["fix"]
    product = next(n for n in nodes if "SKU-00999" in n["id"])
    assert product["records"][0]["product"]["name"] == "Legacy Pallet Jack M999"


async def test_severity_and_category_filter_the_findings(gateway: Starlette, as_role: Any) -> None:
    await run(gateway)
    admin = as_role("admin")

    errors = await admin.data(FINDINGS, severity="ERROR")
    counterparts = await admin.data(FINDINGS, categories=["counterparts"])
    one = await admin.data(FINDINGS, categories=["customer_without_account"])
    bad = await admin.query(FINDINGS, categories=["COUNTERPARTS"])

    assert sorted(n["category"] for n in errors["reconciliationFindings"]["nodes"]) == [
        "product_without_item",
        "shipment_for_cancelled_order",
    ]
    assert len(counterparts["reconciliationFindings"]["nodes"]) == 2
    assert [n["category"] for n in one["reconciliationFindings"]["nodes"]] == [
        "customer_without_account"
    ]
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_last_runs_counts_are_exposed(gateway: Starlette, as_role: Any) -> None:
    steward = as_role("data_steward")
    before = await steward.data("{ reconciliationRun { id } }")
    await run(gateway)

    body = await steward.data(
        "{ reconciliationRun { trigger findings errors warnings infos"
        " byRule { name count } read { name count } } }"
    )

    assert before == {"reconciliationRun": None}
    run_ = body["reconciliationRun"]
    assert (run_["findings"], run_["errors"], run_["warnings"], run_["infos"]) == (3, 2, 1, 0)
    assert {"name": "crm orders", "count": 300} in run_["read"]


@pytest.mark.parametrize("role", ["sales", "logistics", "analyst", "partner"])
async def test_roles_without_reconcile_scopes_do_not_see_the_fields(
    gateway: Starlette, as_role: Any, role: str
) -> None:
    body = await as_role(role).query("{ reconciliationRun { id } }")

    assert body["errors"][0]["message"] == "Cannot query field 'reconciliationRun' on type 'Query'."


async def test_repair_finding_plans_then_applies_then_finds_it_gone(
    rig: Rig, gateway: Starlette, as_role: Any
) -> None:
    order, mirror = await rig.unshipped_approved()
    await rig.crm.set_order_status(order.id, CRM_CANCELLED)
    await run(gateway)
    steward = as_role("data_steward")
    found = await steward.data(FINDINGS, categories=["mirrors"])
    [node] = found["reconciliationFindings"]["nodes"]
    before = rig.writes()

    planned = (await steward.data(REPAIR, id=node["id"], dryRun=True))["repairFinding"]
    assert rig.writes() == before
    applied = (await steward.data(REPAIR, id=node["id"], dryRun=False))["repairFinding"]
    again = (await steward.data(REPAIR, id=node["id"], dryRun=False))["repairFinding"]

    assert planned["status"] == "PLANNED"
    assert planned["journalId"] is None
    assert planned["actions"] == applied["actions"]
    assert applied["actions"] == [
        {
            "operation": "cancel",
            "record": {"kind": "sales_order", "id": mirror.name},
            "before": [{"field": "docstatus", "value": "submitted"}],
            "after": [{"field": "docstatus", "value": "cancelled"}],
        }
    ]
    assert applied["status"] == "APPLIED"
    assert again["status"] == "GONE"
    [entry] = gateway.state.reconciliation.store.repairs()
    assert entry.actor == "graphql:test-data_steward"
    assert str(entry.id) == applied["journalId"]


async def test_an_unknown_finding_id_is_a_user_error(gateway: Starlette, as_role: Any) -> None:
    body = await as_role("admin").query(REPAIR, id="no.such:rule", dryRun=True)

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "parquet"])
async def test_the_reconciliation_view_has_one_row_per_finding(
    gateway: Starlette, fmt: str
) -> None:
    await run(gateway)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway), base_url=GATEWAY_URL
    ) as client:
        response = await client.get(
            f"/views/reconciliation.{fmt}",
            headers={"Authorization": f"Bearer {token_for('data_steward')}"},
        )

    assert response.status_code == 200, response.text
    if fmt == "csv":
        header, *rows = list(csv.reader(io.StringIO(response.text, newline="")))
        found = [dict(zip(header, row, strict=True)) for row in rows]
    elif fmt == "parquet":
        found = pyarrow.parquet.read_table(io.BytesIO(response.content)).to_pylist()
    else:
        found = [json.loads(line) for line in response.text.splitlines()]
    assert sorted(row["rule"] for row in found) == [
        "counterparts.customer_without_account",
        "counterparts.product_without_item",
        "shipments.shipment_for_cancelled_order",
    ]
    shipment = next(row for row in found if row["category"] == "shipment_for_cancelled_order")
    assert shipment["group"] == "SHIPMENTS"
    assert (shipment["record_kind"], shipment["record_id"]) == ("shipment", "SHIPMENT-00001")
    assert (shipment["other_kind"], shipment["difference"]) == ("order", "status")
    assert shipment["who_must_act"]


async def test_a_data_steward_reads_the_findings_afresh(client_for: ClientFor) -> None:
    """Main's `reconciliation(categories)`: read from both systems on every call, no run
    stored first; its categories are the rules' names."""
    data = await client_for("data_steward").data(FRESH)
    found = {f["category"]: f for f in data["reconciliation"]}
    assert sorted(found) == [
        "customer_without_account",
        "product_without_item",
        "shipment_for_cancelled_order",
    ]
    shipment = found["shipment_for_cancelled_order"]
    assert shipment["severity"] == "ERROR"
    assert shipment["erp"] == [{"kind": "shipment", "id": "SHIPMENT-00001"}]
    assert {"name": "crm.status", "value": "CANCELLED"} in shipment["values"]
    assert "logistics" in shipment["fix"]


async def test_fresh_categories_narrow_and_unknown_ones_are_a_client_error(
    client_for: ClientFor,
) -> None:
    steward = client_for("data_steward")
    narrowed = await steward.data(FRESH, c=["product_without_item"])
    group = await steward.data(FRESH, c=["counterparts"])
    bad = await steward.query(FRESH, c=["nope"])

    assert [f["category"] for f in narrowed["reconciliation"]] == ["product_without_item"]
    assert sorted(f["category"] for f in group["reconciliation"]) == [
        "customer_without_account",
        "product_without_item",
    ]
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "known: product_without_item" in bad["errors"][0]["message"]


async def test_sales_may_not_read_findings(client_for: ClientFor) -> None:
    body = await client_for("sales").query(FRESH)
    assert body.get("data") is None
    assert "Cannot query field 'reconciliation'" in body["errors"][0]["message"]
