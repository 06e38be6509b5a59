"""The reservation read-back: an order the ERP reserved less for is held, never APPROVED.

Stock leaves the warehouse outside the gateway (another ERPNext user) between the decision and
the submit; the emulation then reserves what is left, as ERPNext does (a message, not an error).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from resolvers.records import OrderStatus
from resolvers.saga import ProcessStatus
from resolvers.saga.locks import LocalLocks
from resolvers.saga.state import LineInput, OrderInput
from tests.support.saga import Systems

WH = "Stores - AC"


def three_of_a(systems: Systems) -> OrderInput:
    return OrderInput(systems.accounts["northwind"], (LineInput("SKU-A", Decimal(3)),))


def stock_drops_at(systems: Systems, step: str, to: float) -> Callable[[str, str], None]:
    def hook(at: str, phase: str) -> None:
        if (at, phase) == (step, "before"):
            systems.set_stock("SKU-A", WH, to)

    return hook


def projected(systems: Systems) -> float:
    rows = systems.erp.store.query(
        "SELECT projected_qty FROM tabBin WHERE item_code = 'SKU-A' AND warehouse = ?", (WH,)
    )
    return float(rows[0]["projected_qty"])


async def test_a_short_reservation_is_released_and_the_order_held_until_approved_again(
    systems: Systems,
) -> None:
    hook = stock_drops_at(systems, "erp_order_submit", 1)
    service = systems.service(step_hook=hook)
    held = await service.place_order(three_of_a(systems), "k-short")
    assert held.status is ProcessStatus.PENDING_APPROVAL
    assert held.order is not None
    assert held.order.status is OrderStatus.PENDING_APPROVAL
    assert held.approval is not None
    failed = [r for r in held.approval.reasons if not r.passed]
    assert [r.rule for r in failed] == ["reservation"]
    assert "SKU-A 1" in failed[0].message
    assert "of 3" in failed[0].message
    assert held.reservations == ()
    mirror = (await systems.scm.erp_orders_by_crm_ids([held.order.id]))[held.order.id]
    assert mirror.docstatus == 2  # released: nothing half-held
    assert projected(systems) >= 0
    assert await systems.violations() == []

    systems.set_stock("SKU-A", WH, 50)  # stock came back; the approver tries again
    approved = await systems.service().approve(held.process_id, approver="alice")
    assert approved.status is ProcessStatus.APPROVED
    assert [(r.quantity, r.reserved) for r in approved.reservations] == [(3, 3)]
    assert await systems.violations() == []


async def test_in_hold_mode_the_partial_reservation_stays_and_is_reported_as_it_is(
    systems: Systems,
) -> None:
    hook = stock_drops_at(systems, "erp_order_submit", 1)
    service = systems.service(step_hook=hook, on_short_reservation="hold")
    held = await service.place_order(three_of_a(systems), "k-hold")
    assert held.status is ProcessStatus.PENDING_APPROVAL
    assert [(r.quantity, r.reserved) for r in held.reservations] == [(3, 1)]
    assert held.order is not None
    assert held.order.status is OrderStatus.PENDING_APPROVAL
    cancelled = await service.cancel(held.process_id)
    assert cancelled.status is ProcessStatus.CANCELLED
    assert await systems.violations() == []


async def test_stock_gone_before_the_mirror_is_created_holds_the_order_with_no_mirror(
    systems: Systems,
) -> None:
    systems.set_stock("SKU-A", "Finished Goods - AC", 2)  # neither warehouse will serve 3
    hook = stock_drops_at(systems, "erp_order_create", 2)
    service = systems.service(step_hook=hook)
    held = await service.place_order(three_of_a(systems), "k-gone")
    assert held.status is ProcessStatus.PENDING_APPROVAL
    assert held.order is not None
    assert await systems.scm.erp_orders_by_crm_ids([held.order.id]) == {}
    assert projected(systems) == 2


async def test_local_locks_take_overlapping_sets_in_one_order_and_grow_fencing_tokens() -> None:
    locks, seen = LocalLocks(), list[int]()

    async def take(names: list[str]) -> None:
        async with locks.hold(names) as lease:
            seen.append(lease.fencing_token)
            await asyncio.sleep(0)  # let the other holder try meanwhile

    await asyncio.gather(take(["b", "a"]), take(["a", "b"]), take(["c"]))
    assert sorted(seen) == [1, 2, 3]
