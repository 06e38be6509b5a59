"""The order process through the secure gateway: placeOrder → orderProcess → approveOrder.

Each test gets freshly seeded emulations (these tests write), and the production app with a
journal in tmp_path. Approval is held for every order here (`max_auto_approve_total` of one
cent), so approveOrder has something to approve.
"""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends.erpnext.app import ErpEmulator
from backends.serve import serving
from backends.zoho.app import ZohoEmulator
from gateway.settings import Settings
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.saga import LineInput, OrderInput, OrderProcessService, ProcessStatus, SimulatedCrash
from resolvers.zoho import ZohoCRM
from tests.support.saga import crash_at
from tests.support.stack import (
    ClientFor,
    GraphQLClient,
    SeededStores,
    fresh_stores,
    order_process_settings,
    token_for,
)

PLACE = """mutation($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) {
    processId status approval { decision reasons { rule passed } }
    order { id number status } reservations { sku reserved } error { code step }
  }
}"""
PROCESS = "query($id: ID!) { orderProcess(id: $id) { id status orderId steps { step state } } }"
APPROVE = "mutation($id: ID!) { approveOrder(id: $id) { status reservations { sku reserved } } }"


@pytest.fixture
def seeded_stores(tmp_path: Path) -> SeededStores:
    """Fresh, small data per test: placeOrder writes to both systems."""
    return fresh_stores(tmp_path, random_seed=11)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return order_process_settings(tmp_path, max_auto_approve_total="0.01")


async def order_input(admin: GraphQLClient) -> dict[str, Any]:
    """A customer and an active SKU with stock in the ERP."""
    data = await admin.data(
        "{ customers(first: 5) { nodes { id } }"
        " products(first: 50) { nodes { sku active available } } }"
    )
    sku = next(p["sku"] for p in data["products"]["nodes"] if p["active"] and p["available"])
    customer = data["customers"]["nodes"][0]["id"]
    return {"customerId": customer, "lines": [{"sku": sku, "quantity": "1"}]}


async def test_sales_places_an_order_that_admin_approves_and_the_process_shows_each_step(
    client_for: ClientFor,
) -> None:
    admin, sales = client_for("admin"), client_for("sales")
    order = await order_input(admin)
    placed = (await sales.data(PLACE, input=order, key="k-1"))["placeOrder"]
    assert placed["status"] == "PENDING_APPROVAL", placed
    assert placed["approval"]["decision"] == "PENDING_APPROVAL"
    assert placed["order"]["status"] == "PENDING_APPROVAL"
    again = (await sales.data(PLACE, input=order, key="k-1"))["placeOrder"]
    assert again["processId"] == placed["processId"]
    assert again["order"]["id"] == placed["order"]["id"]

    process = (await sales.data(PROCESS, id=placed["processId"]))["orderProcess"]
    assert process["status"] == "PENDING_APPROVAL"
    assert process["orderId"] == placed["order"]["id"]
    assert {s["state"] for s in process["steps"]} >= {"started", "done"}

    refused = await sales.query(APPROVE, id=placed["order"]["id"])  # hidden from sales
    assert refused.get("data") is None
    [error] = refused["errors"]
    assert error["message"] == (
        "Cannot query field 'approveOrder' on type 'Mutation'. Did you mean 'placeOrder'?"
    )
    approved = (await admin.data(APPROVE, id=placed["order"]["id"]))["approveOrder"]
    assert approved["status"] == "APPROVED"
    assert approved["reservations"][0]["reserved"] == 1.0
    after = (await admin.data(PROCESS, id=placed["processId"]))["orderProcess"]
    assert after["status"] == "APPROVED"


async def test_a_reused_key_with_another_input_is_an_idempotency_conflict(
    client_for: ClientFor,
) -> None:
    sales = client_for("sales")
    order = await order_input(client_for("admin"))
    await sales.data(PLACE, input=order, key="k-2")
    changed = {**order, "lines": [{**order["lines"][0], "quantity": "2"}]}
    body = await sales.query(PLACE, input=changed, key="k-2")
    assert body["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_CONFLICT"


@pytest.mark.parametrize(("role", "partner"), [("analyst", None), ("partner", "DHL")])
async def test_roles_without_orders_write_cannot_place_orders_and_nothing_is_written(
    client_for: ClientFor,
    crm_emulator: ZohoEmulator,
    scm_emulator: ErpEmulator,
    role: str,
    partner: str | None,
) -> None:
    order = await order_input(client_for("admin"))
    crm_emulator.stats.reset()
    scm_emulator.stats.reset()
    body = await client_for(role, partner_id=partner).query(PLACE, input=order, key="k-3")
    assert body.get("data") is None
    # no mutation this role may run: the schema it sees has none (the policy's "hide" mode)
    messages = [e["message"] for e in body["errors"]]
    assert "The mutation operation is not supported by the schema." in messages
    assert (crm_emulator.stats.total, scm_emulator.stats.total) == (0, 0)
    process = await client_for(role, partner_id=partner).query(PROCESS, id="anything")
    [error] = process["errors"]
    assert error["message"] == "Cannot query field 'orderProcess' on type 'Query'."


async def test_the_app_recovers_an_interrupted_process_when_it_starts(
    settings: Settings, crm: ZohoCRM, scm: ERPNext, client_for: ClientFor
) -> None:
    order = await order_input(client_for("admin"))
    lines = tuple(LineInput(line["sku"], Decimal(line["quantity"])) for line in order["lines"])
    journal = settings.saga.open_journal()
    crashed = OrderProcessService(
        crm, scm, journal, settings.saga.rules, step_hook=crash_at("crm_upsert", "after")
    )
    with pytest.raises(SimulatedCrash):
        await crashed.place_order(OrderInput(order["customerId"], lines), "k-crash")
    assert [s.status for s in journal.unfinished()] == [ProcessStatus.RUNNING]
    journal.close()

    restarted = assemble(settings, crm=crm, scm=scm)
    async with restarted.router.lifespan_context(restarted):
        # recovery runs in the background once the app has started
        await asyncio.wait_for(restarted.state.order_process.resolver.recovered.wait(), 30)
        reopened = settings.saga.open_journal()
        assert reopened.unfinished() == []
        state = reopened.find_by_key("k-crash")
        assert state is not None
        assert state.status is ProcessStatus.PENDING_APPROVAL  # resumed to the approval hold
        reopened.close()


CANCEL = "mutation($id: ID!) { cancelOrder(id: $id) { status } }"


async def test_the_server_listens_and_recovers_in_the_background_while_the_erp_hangs(
    settings: Settings,
    crm: ZohoCRM,
    scm: ERPNext,
    client_for: ClientFor,
    scm_emulator: ErpEmulator,
) -> None:
    """Issue 12: recovery used to run before the server listened (a hung ERP kept /healthz
    refusing connections). Now /healthz answers at once, /readyz says `recovering`, and a
    request for the process under recovery waits (bounded) and then gets PROCESS_RECOVERING."""
    order = await order_input(client_for("admin"))
    lines = tuple(LineInput(line["sku"], Decimal(line["quantity"])) for line in order["lines"])
    journal = settings.saga.open_journal()
    crashed = OrderProcessService(
        crm, scm, journal, settings.saga.rules, step_hook=crash_at("erp_customer", "before")
    )
    with pytest.raises(SimulatedCrash):
        await crashed.place_order(OrderInput(order["customerId"], lines), "k-hung")
    [interrupted] = journal.unfinished()
    journal.close()
    hung = scm_emulator.controls.hold("GET", r"^/api/resource/Customer$", 60_000)  # until released
    saga = dataclasses.replace(settings.saga, recovery_wait_s=0.05)
    quick = dataclasses.replace(settings, saga=saga)
    app = assemble(quick, crm=crm, scm=scm)
    admin = {"Authorization": f"Bearer {token_for('admin')}"}
    async with (
        serving(app, "127.0.0.1", 0, lifespan="on", timeout_graceful_shutdown=1) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
    ):
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
        assert (ready.status_code, ready.json()["status"]) == (503, "recovering")
        body = {"query": CANCEL, "variables": {"id": interrupted.id}}
        refused = (await http.post("/graphql", json=body, headers=admin)).json()
        assert refused["errors"][0]["extensions"]["code"] == "PROCESS_RECOVERING"
        assert "retry" in refused["errors"][0]["message"]
        hung.release()
        await asyncio.wait_for(app.state.order_process.resolver.recovered.wait(), 30)
        assert (await http.get("/readyz")).json()["status"] == "ready"
        process = {"query": PROCESS, "variables": {"id": interrupted.id}}
        after = (await http.post("/graphql", json=process, headers=admin)).json()
    assert after["data"]["orderProcess"]["status"] == "PENDING_APPROVAL"
