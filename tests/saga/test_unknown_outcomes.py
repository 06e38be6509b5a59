"""Writes that land after the gateway gave up on them (issue 13: unknown is not "did not happen").

Over loopback sockets: the gateway's read timeout is READ_S, and the emulation's late-write
knob commits a held write HOLD_MS after it arrived, whatever the client did. Every case waits
for the held writes to land (the knob's commit counter, no sleeping), then checks the same
invariants, reading both systems directly: no approved CRM order without its submitted,
reserving mirror; no live mirror (draft or submitted) or reservation for a cancelled CRM order;
no duplicate orders; and each process's status agrees with both systems. Then the running
gateway's resolver pass, or a restarted gateway over the same journal, finishes what is
unfinished and reopens what a late write contradicted; the check runs again, and once more
after a further restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from backends.held_writes import HeldWrite
from resolvers.saga import OrderProcessService, PlaceOrderOutcome, ProcessStatus
from resolvers.saga.outcomes import Patience
from resolvers.saga.recovery import Resolver
from resolvers.saga.state import LineInput, OrderInput
from tests.saga.late import HOLD_MS, Late, late_systems
from tests.support.saga import FAST_RETRY

ZOHO_INSERT = r"^/crm/v8/Sales_Orders$"
ZOHO_ORDER = r"^/crm/v8/Sales_Orders/\d+$"
ERP_SO = r"^/api/resource/Sales Order$"
ERP_SO_DOC = r"^/api/resource/Sales Order/"
ERP_CUSTOMER = r"^/api/resource/Customer$"
S = ProcessStatus


@pytest.fixture
async def late(tmp_path: Path) -> AsyncIterator[Late]:
    async with late_systems(tmp_path) as found:
        yield found


@pytest.fixture
async def late_sockets(tmp_path: Path) -> AsyncIterator[Late]:
    async with late_systems(tmp_path, sockets=True, retry=FAST_RETRY) as found:
        yield found


def an_order(late: Late, customer: str = "northwind") -> OrderInput:
    lines = (LineInput("SKU-A", Decimal(2)), LineInput("SKU-B", Decimal(1)))
    return OrderInput(late.systems.accounts[customer], lines, "late write")


# -- the two scenarios of issue 13, reproduced first ----------------------------------------


async def test_a_submit_landing_after_the_timeout_never_reserves_for_a_failed_order(
    late_sockets: Late,
) -> None:
    """Issue 13.1: the submit PUT held past the timeout; the undo used to leave the draft."""
    late = late_sockets
    before = late.reserved()
    held = late.erp.controls.hold("PUT", ERP_SO_DOC, HOLD_MS)
    result = await late.service().place_order(an_order(late), "late-submit")
    assert result.status is S.FAILED
    assert result.error is not None
    assert (result.error.step, result.error.code) == ("erp_order_submit", "BACKEND_TIMEOUT")
    await held.landed(1)
    assert await late.violations([result.process_id], before) == []
    assert result.order is not None
    assert late.mirrors(result.order.id) == []  # the draft was deleted: nothing to submit
    await late.service().recover()  # a restart changes nothing
    assert await late.violations([result.process_id], before) == []


async def test_a_crm_approval_landing_after_503_retries_is_finished_forward(
    late_sockets: Late,
) -> None:
    """Issue 13.2: the first `Status: Approved` held, its retry answered 503. The gateway used
    to answer FAILED and cancel the mirror, and then the held write approved the CRM order."""
    late = late_sockets
    before = late.reserved()
    held = late.zoho.controls.hold("PUT", ZOHO_ORDER, HOLD_MS)
    late.systems.crm_faults.add("PUT", ZOHO_ORDER, "error", skip=1, times=1)
    service = late.service()
    result = await service.place_order(an_order(late), "late-approval")
    assert result.status is S.NEEDS_ATTENTION  # unknown, visible, nothing undone
    view = await service.get_process(result.process_id)
    assert view is not None
    assert view.attention is not None
    assert view.attention.step == "crm_status"
    assert await late.violations([result.process_id], before) == []
    await held.landed(1)
    assert await late.violations([result.process_id], before) == []
    [resolved] = await service.reconcile()
    assert resolved.status is S.APPROVED
    assert await late.violations([result.process_id], before) == []


async def test_a_crm_approval_seen_landing_within_the_bounded_wait_completes_the_order(
    late: Late,
) -> None:
    held = late.zoho.controls.hold("PUT", ZOHO_ORDER, HOLD_MS)
    service = late.service(patience=Patience(settle_s=10.0, poll_s=0.05))
    result = await service.place_order(an_order(late), "late-approval-seen")
    assert result.status is S.APPROVED
    assert held.committed >= 1
    assert result.order is not None
    assert await late.violations([result.process_id], {}) == []


# -- a late-landing write at every write step, then the same invariant check -----------------


@dataclass(frozen=True)
class Case:
    """Arm the knobs (after placing, for approvals), then place or approve; every held write
    lands; the caller first gets `answered`, and the process ends `ends`."""

    arm: Callable[[Late], HeldWrite]
    answered: ProcessStatus
    ends: ProcessStatus
    approve: bool = False


def _hold(system: str, method: str, path: str, **kw: int) -> Callable[[Late], HeldWrite]:
    def arm(late: Late) -> HeldWrite:
        emulator = late.zoho if system == "crm" else late.erp
        return emulator.controls.hold(method, path, HOLD_MS, **kw)

    return arm


def _refuse_then_hold(
    refuse: tuple[str, str, str, int], hold: Callable[[Late], HeldWrite]
) -> Callable[[Late], HeldWrite]:
    """Refuse one request (400: a known failure that starts the undo), then hold a write."""

    def arm(late: Late) -> HeldWrite:
        system, method, path, skip = refuse
        faults = late.systems.crm_faults if system == "crm" else late.systems.scm_faults
        faults.add(method, path, "reject", skip=skip, times=1)
        return hold(late)

    return arm


def _refuse_after_approval(hold: Callable[[Late], HeldWrite]) -> Callable[[Late], HeldWrite]:
    """Refuse the first mirror read after the CRM approval write (crm_status's check after)."""

    def arm(late: Late) -> HeldWrite:
        approval = late.systems.crm_faults.add("PUT", ZOHO_ORDER, "error", times=0)  # counts
        late.systems.scm_faults.add(
            "GET", ERP_SO, "reject", times=1, after=lambda: approval.seen > 0
        )
        return hold(late)

    return arm


CASES = {
    # forward steps of placeOrder
    "crm_upsert": Case(_hold("crm", "POST", ZOHO_INSERT), S.FAILED, S.FAILED),
    "erp_customer": Case(_hold("scm", "POST", ERP_CUSTOMER), S.FAILED, S.FAILED),
    "erp_order_create": Case(_hold("scm", "POST", ERP_SO), S.FAILED, S.FAILED),
    "erp_order_submit": Case(_hold("scm", "PUT", ERP_SO_DOC), S.FAILED, S.FAILED),
    "crm_status": Case(_hold("crm", "PUT", ZOHO_ORDER), S.NEEDS_ATTENTION, S.APPROVED),
    # forward steps of approveOrder: a failure returns to PENDING_APPROVAL
    "approve/erp_order_create": Case(
        _hold("scm", "POST", ERP_SO), S.PENDING_APPROVAL, S.PENDING_APPROVAL, approve=True
    ),
    "approve/erp_order_submit": Case(
        _hold("scm", "PUT", ERP_SO_DOC), S.PENDING_APPROVAL, S.PENDING_APPROVAL, approve=True
    ),
    "approve/crm_status": Case(
        _hold("crm", "PUT", ZOHO_ORDER), S.NEEDS_ATTENTION, S.APPROVED, approve=True
    ),
    # undo steps: the undo is started by a refusal (a known failure)
    "undo/erp_order_cancel": Case(
        _refuse_then_hold(("crm", "PUT", ZOHO_ORDER, 0), _hold("scm", "PUT", ERP_SO_DOC, skip=1)),
        S.NEEDS_ATTENTION,
        S.FAILED,
    ),
    "undo/erp_draft_delete": Case(
        _refuse_then_hold(("scm", "PUT", ERP_SO_DOC, 0), _hold("scm", "DELETE", ERP_SO_DOC)),
        S.NEEDS_ATTENTION,
        S.FAILED,
    ),
    "undo/crm_order_cancel": Case(
        _refuse_then_hold(("crm", "PUT", ZOHO_ORDER, 0), _hold("crm", "PUT", ZOHO_ORDER)),
        S.NEEDS_ATTENTION,
        S.FAILED,
    ),
    # a failed approval after the CRM said Approved (its mirror check after the write is
    # refused) reverts the CRM order to Pending Approval
    "undo/crm_status_revert": Case(
        _refuse_after_approval(_hold("crm", "PUT", ZOHO_ORDER, skip=1)),
        S.NEEDS_ATTENTION,
        S.PENDING_APPROVAL,
        approve=True,
    ),
}


async def _run(late: Late, service: OrderProcessService, case: Case) -> PlaceOrderOutcome:
    if not case.approve:
        case_held = case.arm(late)
        outcome = await service.place_order(an_order(late), "late-case")
    else:
        placed = await service.place_order(an_order(late, "tiny"), "late-case")
        assert placed.status is S.PENDING_APPROVAL
        case_held = case.arm(late)
        outcome = await service.approve(placed.process_id, approver="approver")
    await case_held.landed(case_held.held)
    return outcome


@pytest.mark.parametrize("resolved_by", ["resolver", "restart"])
@pytest.mark.parametrize("step", list(CASES))
async def test_a_write_landing_late_at_any_step_leaves_both_systems_agreeing(
    late: Late, step: str, resolved_by: str
) -> None:
    case = CASES[step]
    before = late.reserved()
    service = late.service()
    outcome = await _run(late, service, case)
    assert outcome.status is case.answered, outcome.error
    pid = outcome.process_id
    # right after the late write landed (a late draft mirror reserves nothing, tolerated here)
    assert await late.violations([pid], before, settled=False) == []
    late.systems.crm_faults.clear()
    late.systems.scm_faults.clear()
    if resolved_by == "resolver":
        await service.reconcile()
    else:
        await late.service().recover()
    view = await late.service().get_process(pid)
    assert view is not None
    assert view.status is case.ends, view.attention
    assert await late.violations([pid], before) == []
    await late.service().recover()  # and a further restart finds nothing to change
    assert await late.violations([pid], before) == []
    final = await late.service().get_process(pid)
    assert final is not None
    assert final.status is case.ends


async def test_the_background_resolver_finishes_a_process_needing_attention_by_itself(
    late: Late,
) -> None:
    service = late.service()
    resolver = Resolver(service, interval_s=0.01)
    resolver.start()  # running before the order: its passes, not start-up recovery, resolve it
    try:
        await asyncio.wait_for(resolver.recovered.wait(), 10)
        held = late.zoho.controls.hold("PUT", ZOHO_ORDER, HOLD_MS)
        result = await service.place_order(an_order(late), "late-background")
        assert result.status is S.NEEDS_ATTENTION
        await held.landed(1)
        await asyncio.wait_for(resolver.next_pass(), 10)  # a whole pass after it landed
    finally:
        await resolver.stop()
    view = await service.get_process(result.process_id)
    assert view is not None
    assert view.status is S.APPROVED
    assert await late.violations([result.process_id], {}) == []


async def test_an_approval_while_the_erp_is_down_returns_to_pending_once_it_answers(
    late: Late,
) -> None:
    """Issue 13.6: nothing can be read back while the ERP is down, so the state is unknown:
    NEEDS_ATTENTION (no longer cancelOrder as the only way out); the resolver's next pass, with
    the ERP back, undoes what landed and returns to the hold, and the approver tries again."""
    before = late.reserved()
    service = late.service()
    pending = await service.place_order(an_order(late, "tiny"), "approve-down")
    late.erp.controls.update({"down": True})
    stuck = await service.approve(pending.process_id)
    assert stuck.status is S.NEEDS_ATTENTION
    late.erp.controls.update({"down": False})
    assert await late.violations([pending.process_id], before) == []  # as the outage left it
    [state] = await service.reconcile()
    assert state.status is S.PENDING_APPROVAL
    assert await late.violations([pending.process_id], before) == []
    again = await service.approve(pending.process_id)
    assert again.status is S.APPROVED
    assert await late.violations([pending.process_id], before) == []
