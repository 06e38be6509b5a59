"""What approval reasons and order processes tell each caller (issue 13, case 4).

Credit amounts in reasons need finance:read (and their reads are audited), stock details need
stock:read; `orderProcess` answers the subject that placed the order and approvers, and is
null for anyone else, as for an id that does not exist. Every order is held here
(`max_auto_approve_total` of one cent) so that approveOrder has something to approve.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.auth.tokens import mint
from gateway.settings import Settings
from tests.gateway.test_wiring_orders import order_input
from tests.support.stack import (
    GATEWAY_URL,
    JWT_SECRET,
    ClientFor,
    GraphQLClient,
    SeededStores,
    fresh_stores,
    order_process_settings,
)

PLACE = """mutation($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) {
    processId status approval { decision reasons { rule message passed } }
    order { id number status total { amount } } reservations { sku quantity reserved }
    error { code step message }
  }
}"""
PROCESS = """query($id: ID!) { orderProcess(id: $id) { id status orderId erpOrder
  approval { decision reasons { rule message passed } } error { code step message }
  attention { code step message } steps { step state message } } }"""
APPROVE = """mutation($id: ID!) { approveOrder(id: $id) { status
  approval { reasons { rule message passed } } error { message } } }"""


@pytest.fixture
def seeded_stores(tmp_path: Path) -> SeededStores:
    return fresh_stores(tmp_path, random_seed=11)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return order_process_settings(tmp_path, max_auto_approve_total="0.01")


@pytest.fixture
async def subject_client(gateway_app: Starlette) -> AsyncIterator[Any]:
    """`subject_client("bob", roles=["sales"])`: a client whose token has that subject."""
    opened: list[httpx.AsyncClient] = []

    def make(subject: str, *, roles: list[str], scopes: tuple[str, ...] = ()) -> GraphQLClient:
        token = mint(JWT_SECRET, subject=subject, roles=roles, scopes=scopes)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway_app),
            base_url=GATEWAY_URL,
            headers={"Authorization": f"Bearer {token}", "x-crossdock-csrf": "1"},
        )
        opened.append(client)
        return GraphQLClient(client)

    yield make
    for client in opened:
        await client.aclose()


def credit_message(body: dict[str, Any], field: str) -> str:
    reasons = body["data"][field]["approval"]["reasons"]
    return str(next(r["message"] for r in reasons if r["rule"] == "credit"))


def figures(text: str) -> list[Decimal]:
    return [Decimal(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text)]


def audit_lines(settings: Settings) -> list[dict[str, Any]]:
    path = Path(str(settings.policy.audit_log))
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines]


async def test_sales_learns_no_credit_amount_through_any_order_field(
    client_for: ClientFor, subject_client: Any, settings: Settings
) -> None:
    admin, sales = client_for("admin"), client_for("sales")
    order = await order_input(admin)
    placed = await sales.query(PLACE, input=order, key="d-1")
    process_id = placed["data"]["placeOrder"]["processId"]
    order_id = placed["data"]["placeOrder"]["order"]["id"]
    own = await sales.query(PROCESS, id=process_id)
    approve = await sales.query(APPROVE, id=order_id)
    assert approve.get("data") is None  # approveOrder is hidden from sales
    assert approve["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    # What an approver with finance:read sees: the amounts, and an audit line for them.
    shown = await admin.query(PROCESS, id=process_id)
    total, remaining = figures(credit_message(shown, "orderProcess"))
    customer = await admin.data(
        "query($id: ID!) { customer(id: $id) { creditLimit { amount } } }", id=order["customerId"]
    )
    limit = Decimal(customer["customer"]["creditLimit"]["amount"])
    secrets = {remaining, limit, limit - remaining}

    for body in (placed, own, approve):
        assert credit_message(placed, "placeOrder") == credit_message(own, "orderProcess")
        assert not figures(credit_message(placed, "placeOrder"))  # the verdict, no numbers
        assert not secrets & set(figures(json.dumps(body))), body
    assert total == Decimal(placed["data"]["placeOrder"]["order"]["total"]["amount"])

    audited = [(a["subject"], a["fields"]) for a in audit_lines(settings)]
    assert ("test-admin", ["ApprovalReason.message"]) in audited
    assert not [a for a in audited if a[0] == "test-sales"]

    # An approver without finance:read approves: the verdict, still no amounts.
    approver = subject_client("carol", roles=[], scopes=("orders:approve", "crm:read"))
    approved = await approver.query(APPROVE, id=order_id)
    assert approved["data"]["approveOrder"]["status"] == "APPROVED"
    assert not secrets & set(figures(json.dumps(approved)))


async def test_another_subjects_process_is_null_like_one_that_does_not_exist(
    client_for: ClientFor, subject_client: Any
) -> None:
    alice = subject_client("alice", roles=["sales"])
    bob = subject_client("bob", roles=["sales"])
    order = await order_input(client_for("admin"))
    placed = (await alice.data(PLACE, input=order, key="d-2"))["placeOrder"]
    for key in (placed["processId"], placed["order"]["id"]):
        assert (await alice.data(PROCESS, id=key))["orderProcess"]["id"] == placed["processId"]
        assert await bob.query(PROCESS, id=key) == {"data": {"orderProcess": None}}
    assert await bob.query(PROCESS, id="no-such-process") == {"data": {"orderProcess": None}}
    assert (await client_for("admin").data(PROCESS, id=placed["processId"]))["orderProcess"]
    # Nor does bob get alice's process by replaying her key and input.
    replay = await bob.query(PLACE, input=order, key="d-2")
    assert replay["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_CONFLICT"


async def test_stock_details_need_stock_read(client_for: ClientFor, subject_client: Any) -> None:
    admin = client_for("admin")
    order = await order_input(admin)
    sku = order["lines"][0]["sku"]
    found = await admin.data("query($sku: ID!) { product(sku: $sku) { available } }", sku=sku)
    more = str(int(found["product"]["available"]) + 1)  # than one warehouse holds
    short = {**order, "lines": [{"sku": sku, "quantity": more}]}
    placed = (await admin.data(PLACE, input=short, key="d-3"))["placeOrder"]
    stock = next(r for r in placed["approval"]["reasons"] if r["rule"] == "stock")
    assert not stock["passed"]
    assert short["lines"][0]["sku"] in stock["message"]
    blind = subject_client("dave", roles=[], scopes=("orders:approve", "crm:read"))
    seen = (await blind.data(PROCESS, id=placed["processId"]))["orderProcess"]
    stock = next(r for r in seen["approval"]["reasons"] if r["rule"] == "stock")
    assert short["lines"][0]["sku"] not in stock["message"]
    assert "stock:read" in stock["message"]
