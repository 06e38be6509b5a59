from __future__ import annotations

from decimal import Decimal
from typing import Any

from strawberry.schema.config import StrawberryConfig

from resolvers.errors import CrossdockError
from schema.build import CrossdockSchema
from schema.context import make_context
from schema.order_mutations import OrderMutations, OrderProcessQuery
from schema.principal import Principal
from schema.scalars import SCALAR_MAP
from tests.support.saga import Systems

# Crossdock's schema class: the entity types' federation keys are its to handle
SCHEMA = CrossdockSchema(
    query=OrderProcessQuery, mutation=OrderMutations, config=StrawberryConfig(scalar_map=SCALAR_MAP)
)
PLACE = """
mutation Place($input: PlaceOrderInput!, $key: String!) {
  placeOrder(input: $input, idempotencyKey: $key) {
    processId status
    order { id status total { amount currency } lines { sku quantity unitPrice { amount } } }
    approval { decision reasons { rule message passed } }
    reservations { sku warehouse quantity reserved }
    error { code step message }
  }
}"""


async def run(systems: Systems, query: str, service: Any, **variables: Any) -> Any:
    context = make_context(
        crm=systems.crm, scm=systems.scm, order_process=service,
        principal=Principal(subject="alice", scopes=frozenset({"orders:write"})),
    )  # fmt: skip
    return await SCHEMA.execute(query, variable_values=variables, context_value=context)


def order_input(systems: Systems, customer: str, quantity: str) -> dict[str, Any]:
    return {
        "customerId": systems.accounts[customer],
        "lines": [{"sku": "SKU-A", "quantity": quantity}],
    }


async def test_place_order_answers_order_approval_reservations_and_process(
    systems: Systems,
) -> None:
    result = await run(
        systems, PLACE, systems.service(), input=order_input(systems, "northwind", "2"), key="g-1"
    )
    assert result.errors is None
    placed = result.data["placeOrder"]
    assert placed["status"] == "APPROVED"
    assert placed["order"]["status"] == "APPROVED"
    assert Decimal(placed["order"]["lines"][0]["unitPrice"]["amount"]) == 100  # CRM list price
    assert placed["approval"]["decision"] == "APPROVED"
    assert {r["rule"] for r in placed["approval"]["reasons"]} == {"credit", "stock"}
    assert placed["reservations"] == [
        {"sku": "SKU-A", "warehouse": "Stores - AC", "quantity": 2.0, "reserved": 2.0}
    ]
    assert placed["error"] is None


async def test_a_bad_line_is_a_bad_user_input_error_naming_the_line(systems: Systems) -> None:
    bad = {
        "customerId": systems.accounts["northwind"],
        "lines": [{"sku": "SKU-NOPE", "quantity": "1"}],
    }
    result = await run(systems, PLACE, systems.service(), input=bad, key="g-bad")
    assert result.data is None
    [error] = result.errors
    assert isinstance(error.original_error, CrossdockError)
    assert error.original_error.code == "BAD_USER_INPUT"
    assert "lines[0].sku 'SKU-NOPE'" in error.message


async def test_a_pending_order_is_approved_then_cancelled_and_its_process_shown(
    systems: Systems,
) -> None:
    service = systems.service()
    placed = await run(systems, PLACE, service, input=order_input(systems, "tiny", "2"), key="g-2")
    order_id = placed.data["placeOrder"]["order"]["id"]
    assert placed.data["placeOrder"]["status"] == "PENDING_APPROVAL"
    approve = "mutation($id: ID!) { approveOrder(id: $id) { status order { status } } }"
    approved = await run(systems, approve, service, id=order_id)
    assert approved.data["approveOrder"] == {"status": "APPROVED", "order": {"status": "APPROVED"}}
    cancel = "mutation($id: ID!) { cancelOrder(id: $id) { status order { status } } }"
    cancelled = await run(systems, cancel, service, id=order_id)
    assert cancelled.data["cancelOrder"] == {
        "status": "CANCELLED",
        "order": {"status": "CANCELLED"},
    }
    show = "query($id: ID!) { orderProcess(id: $id) { status orderId steps { step state at } } }"
    shown = (await run(systems, show, service, id=order_id)).data["orderProcess"]
    assert shown["status"] == "CANCELLED"
    assert shown["orderId"] == order_id
    assert shown["steps"][0] == {
        "step": "validate",
        "state": "started",
        "at": shown["steps"][0]["at"],
    }
    assert shown["steps"][0]["at"].endswith("Z")
    assert {"step": "erp_order_cancel", "state": "done"} in [
        {"step": s["step"], "state": s["state"]} for s in shown["steps"]
    ]


async def test_approving_an_order_that_is_not_pending_is_refused(systems: Systems) -> None:
    service = systems.service()
    placed = await run(
        systems, PLACE, service, input=order_input(systems, "northwind", "1"), key="g-3"
    )
    approve = "mutation($id: ID!) { approveOrder(id: $id) { status } }"
    result = await run(systems, approve, service, id=placed.data["placeOrder"]["order"]["id"])
    [error] = result.errors
    assert error.original_error.code == "INVALID_STATE"


async def test_without_a_configured_service_order_mutations_say_so(systems: Systems) -> None:
    result = await run(
        systems, PLACE, None, input=order_input(systems, "northwind", "1"), key="g-4"
    )
    [error] = result.errors
    assert error.original_error.code == "NOT_CONFIGURED"


async def test_a_tiny_or_huge_quantity_is_bad_user_input_naming_the_line(
    systems: Systems,
) -> None:
    for quantity in ("0.0000000001", "1E+9"):
        result = await run(
            systems, PLACE, systems.service(), input=order_input(systems, "northwind", quantity),
            key="g-q",
        )  # fmt: skip
        [error] = result.errors
        assert error.original_error.code == "BAD_USER_INPUT"
        assert "lines[0].quantity" in error.message
    assert systems.crm_orders() == []
