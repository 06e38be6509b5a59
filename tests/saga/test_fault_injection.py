"""Each step made to fail (5xx, timeout, lost reply, crash + restart); invariants read back.

The invariants, read from both systems after every case (`Systems.violations`):
no approved CRM order without its submitted, reserving ERP mirror; no live ERP reservation
for a cancelled CRM order; no duplicate CRM orders for one key; and Bin reserved quantities
after compensation equal those before the order.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from resolvers.records import OrderStatus
from resolvers.saga import ProcessStatus, SimulatedCrash
from resolvers.saga.state import LineInput, OrderInput
from tests.support.saga import Systems, crash_at

# The connector writes orders by insert on the unique External_Ref (see ZohoCRM.upsert_order).
ZOHO_INSERT = r"^/crm/v8/Sales_Orders$"
ZOHO_ORDER = r"^/crm/v8/Sales_Orders/\d+$"
ERP_SO = r"^/api/resource/Sales Order$"
ERP_SO_DOC = r"^/api/resource/Sales Order/"


def an_order(systems: Systems, customer: str = "northwind") -> OrderInput:
    lines = (LineInput("SKU-A", Decimal(2)), LineInput("SKU-B", Decimal(1)))
    return OrderInput(systems.accounts[customer], lines, "fault case")


def heal_when_undoing(systems: Systems) -> object:
    """Faults last until compensation starts, so the failing step fails however often retried."""

    def hook(step: str, phase: str) -> None:
        if step in ("erp_order_cancel", "crm_order_cancel"):
            systems.crm_faults.clear()
            systems.scm_faults.clear()

    return hook


async def assert_undone(systems: Systems, before: dict[tuple[str, str], Decimal]) -> None:
    assert await systems.violations() == []
    assert await systems.reserved() == before
    for doc in systems.crm_orders():
        assert doc["Status"] == "Cancelled"


# (system, method, path, mode, step that fails, error code)
STEP_FAULTS = [
    # validate: the CRM cannot list the account
    ("crm", "GET", r"^/crm/v8/Accounts", "error", "validate", "BACKEND_UNAVAILABLE"),
    # validate: the ERP stock read times out
    ("scm", "GET", r"^/api/resource/Bin$", "timeout", "validate", "BACKEND_TIMEOUT"),
    # CRM order insert refused by a 5xx: nothing was created
    ("crm", "POST", ZOHO_INSERT, "error", "crm_upsert", "BACKEND_UNAVAILABLE"),
    # CRM order insert applied but its answer lost: the undo must find the order by External_Ref
    ("crm", "POST", ZOHO_INSERT, "lost_reply", "crm_upsert", "BACKEND_TIMEOUT"),
    # ERP customer creation fails
    ("scm", "POST", r"^/api/resource/Customer$", "error", "erp_customer", "BACKEND_UNAVAILABLE"),
    # ERP sales order creation fails
    ("scm", "POST", ERP_SO, "error", "erp_order_create", "BACKEND_UNAVAILABLE"),
    # ERP sales order created as a draft, answer lost: a draft reserves nothing
    ("scm", "POST", ERP_SO, "lost_reply", "erp_order_create", "BACKEND_TIMEOUT"),
    # ERP submit fails: the draft is left, nothing reserved
    ("scm", "PUT", ERP_SO_DOC, "error", "erp_order_submit", "BACKEND_UNAVAILABLE"),
    # ERP submit applied (stock reserved) but its answer lost: the undo must cancel it
    ("scm", "PUT", ERP_SO_DOC, "lost_reply", "erp_order_submit", "BACKEND_TIMEOUT"),
    # the reservation read-back fails after the submit reserved: the mirror must be cancelled
    (
        "scm",
        "GET",
        r"^/api/resource/Stock Reservation Entry$",
        "error",
        "erp_reservation_check",
        "BACKEND_UNAVAILABLE",
    ),
    # CRM status write refused after the stock is reserved: the mirror must be cancelled
    # (a 5xx or a timeout there may still land: test_unknown_outcomes.py)
    ("crm", "PUT", ZOHO_ORDER, "reject", "crm_status", "BACKEND_REJECTED"),
]


@pytest.mark.parametrize(("system", "method", "path", "mode", "step", "code"), STEP_FAULTS)
async def test_a_failing_step_is_undone_and_reported_with_its_code_and_step(
    systems: Systems, system: str, method: str, path: str, mode: str, step: str, code: str
) -> None:
    before = await systems.reserved()
    faults = systems.crm_faults if system == "crm" else systems.scm_faults
    faults.add(method, path, mode)  # type: ignore[arg-type]
    service = systems.service(step_hook=heal_when_undoing(systems))  # type: ignore[arg-type]
    result = await service.place_order(an_order(systems), f"fault-{step}-{mode}")
    systems.crm_faults.clear()
    systems.scm_faults.clear()
    assert result.status is ProcessStatus.FAILED
    assert result.error is not None
    assert (result.error.step, result.error.code) == (step, code)
    await assert_undone(systems, before)


FORWARD = ["validate", "decide", "crm_upsert", "erp_customer", "erp_order_create",
           "erp_order_submit", "erp_reservation_check", "crm_status"]  # fmt: skip
CRASHES = [(step, phase) for step in FORWARD for phase in ("before", "after")]


@pytest.mark.parametrize(("step", "phase"), CRASHES)
async def test_a_crash_between_steps_is_resumed_by_a_new_gateway_exactly_once(
    systems: Systems, step: str, phase: str
) -> None:
    placed = an_order(systems)
    with pytest.raises(SimulatedCrash):
        await systems.service(step_hook=crash_at(step, phase)).place_order(placed, "crash-key")
    restarted = systems.service()
    recovered = await restarted.recover()
    assert [s.status for s in recovered] == [ProcessStatus.APPROVED]
    again = await restarted.place_order(placed, "crash-key")
    assert again.status is ProcessStatus.APPROVED
    assert again.order is not None
    assert again.order.status is OrderStatus.APPROVED
    assert len(systems.crm_orders()) == 1
    assert [r.reserved for r in again.reservations] == [Decimal(2), Decimal(1)]
    assert await systems.violations() == []


@pytest.mark.parametrize(("step", "phase"), [("crm_upsert", "after"), ("erp_customer", "before")])
async def test_a_crash_in_a_held_order_recovers_to_pending_approval(
    systems: Systems, step: str, phase: str
) -> None:
    placed = an_order(systems, "tiny")
    with pytest.raises(SimulatedCrash):
        await systems.service(step_hook=crash_at(step, phase)).place_order(placed, "crash-held")
    [state] = await systems.service().recover()
    assert state.status is ProcessStatus.PENDING_APPROVAL
    assert len(systems.crm_orders()) == 1
    assert await systems.violations() == []


@pytest.mark.parametrize("phase", ["before", "after"])
async def test_a_crash_during_compensation_is_finished_by_the_next_gateway(
    systems: Systems, phase: str
) -> None:
    before = await systems.reserved()
    systems.crm_faults.add("PUT", ZOHO_ORDER, "reject", times=1)  # crm_status refused, then heals
    crashing = systems.service(step_hook=crash_at("erp_order_cancel", phase))
    with pytest.raises(SimulatedCrash):
        await crashing.place_order(an_order(systems), "crash-undo")
    [state] = await systems.service().recover()
    assert state.status is ProcessStatus.FAILED
    assert state.error is not None
    assert state.error.step == "crm_status"
    await assert_undone(systems, before)


async def test_a_failed_undo_stays_visible_as_needing_attention_until_recovered(
    systems: Systems,
) -> None:
    before = await systems.reserved()
    systems.crm_faults.add("PUT", ZOHO_ORDER, "reject", times=1)  # the approval is refused
    systems.crm_faults.add("PUT", ZOHO_ORDER, "error")  # then every status write fails
    service = systems.service()
    result = await service.place_order(an_order(systems), "stuck")
    assert result.status is ProcessStatus.NEEDS_ATTENTION
    view = await service.get_process(result.process_id)
    assert view is not None
    assert view.attention is not None
    assert view.attention.step == "crm_order_cancel"
    assert await systems.reserved() == before  # the ERP side was already released
    assert await systems.violations() == []
    systems.crm_faults.clear()
    [state] = await systems.service().recover()
    assert state.status is ProcessStatus.FAILED
    await assert_undone(systems, before)


async def test_a_failed_approval_returns_to_pending_approval_and_can_be_approved_again(
    systems: Systems,
) -> None:
    before = await systems.reserved()
    service = systems.service()
    pending = await service.place_order(an_order(systems, "tiny"), "approve-fails")
    assert pending.order is not None
    systems.scm_faults.add("PUT", ERP_SO_DOC, "error")  # a short ERP outage during the submit
    result = await service.approve(pending.order.id)
    systems.scm_faults.clear()
    assert result.status is ProcessStatus.PENDING_APPROVAL
    assert result.error is not None
    assert result.error.step == "erp_order_submit"
    assert result.order is not None
    assert result.order.status is OrderStatus.PENDING_APPROVAL
    assert await systems.scm.mirrors_of(pending.order.id) == []  # the draft was deleted
    assert await systems.reserved() == before
    assert await systems.violations() == []
    again = await service.approve(pending.order.id)
    assert again.status is ProcessStatus.APPROVED
    assert again.error is None
    assert [r.reserved for r in again.reservations] == [Decimal(2), Decimal(1)]
    assert await systems.violations() == []


async def test_cancelling_while_the_erp_is_down_needs_attention_then_recovers(
    systems: Systems,
) -> None:
    before = await systems.reserved()
    service = systems.service()
    placed = await service.place_order(an_order(systems), "cancel-down")
    assert placed.order is not None
    systems.erp.controls.update({"down": True})
    stuck = await service.cancel(placed.order.id)
    assert stuck.status is ProcessStatus.NEEDS_ATTENTION
    systems.erp.controls.update({"down": False})
    assert await systems.violations() == []  # the CRM order is still live while stock is held
    [state] = await systems.service().recover()
    assert state.status is ProcessStatus.CANCELLED
    await assert_undone(systems, before)
