"""Where orders wait: the insights computed from the journal after real order processes (an
approved order, two held ones of which one is approved later, one whose ERP order fails)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from resolvers.errors import InvalidInput
from resolvers.saga import ApprovalRules, ProcessStatus
from resolvers.saga.state import LineInput, OrderInput
from schema.insights import order_insights
from tests.support.saga import Systems

ERP_SO = r"^/api/resource/Sales Order$"


def order(customer: str, quantity: str) -> OrderInput:
    return OrderInput(customer, (LineInput("SKU-A", Decimal(quantity)),))


async def test_steps_failures_approval_waits_and_holding_rules(systems: Systems) -> None:
    service = systems.service(rules=ApprovalRules(max_auto_approve_total=Decimal("500")))
    northwind = systems.accounts["northwind"]
    start = service._ctx.clock() - timedelta(seconds=1)
    approved = await service.place_order(order(northwind, "1"), "k-small")
    held = await service.place_order(order(northwind, "6"), "k-held-1")  # 600 > 500
    waiting = await service.place_order(order(northwind, "7"), "k-held-2")
    assert (approved.status, held.status, waiting.status) == (
        ProcessStatus.APPROVED,
        ProcessStatus.PENDING_APPROVAL,
        ProcessStatus.PENDING_APPROVAL,
    )
    assert (await service.approve(held.process_id)).status is ProcessStatus.APPROVED
    systems.scm_faults.add("POST", ERP_SO, "error")
    failed = await service.place_order(order(northwind, "2"), "k-fails")
    systems.scm_faults.clear()
    assert failed.status is ProcessStatus.FAILED

    insights = service.insights(since=start, until=service._ctx.clock() + timedelta(seconds=1))

    assert insights.processes == 4
    assert dict(insights.by_status) == {"APPROVED": 2, "PENDING_APPROVAL": 1, "FAILED": 1}
    steps = {s.step: s for s in insights.steps}
    assert steps["validate"].durations.count == 4
    assert steps["erp_order_create"].durations.count == 3  # 2 approved + the failed one
    assert dict(steps["erp_order_create"].failures) == {"BACKEND_UNAVAILABLE": 1}
    assert steps["crm_status"].durations.count == 2
    assert insights.approval_wait.count == 1  # the held order approved later
    assert insights.still_held.count == 1  # the one still waiting
    assert [(r.rule, r.decision, r.count) for r in insights.holding_rules] == [
        ("max_auto_approve_total", "PENDING_APPROVAL", 2)
    ]
    assert all(s.durations.p95_s >= s.durations.median_s >= 0 for s in insights.steps)

    later = service.insights(
        since=service._ctx.clock() + timedelta(hours=1),
        until=service._ctx.clock() + timedelta(hours=2),
    )
    assert later.processes == 0


async def test_a_window_without_time_zone_or_backwards_is_refused(systems: Systems) -> None:
    service = systems.service()
    now = service._ctx.clock()
    with pytest.raises(InvalidInput, match="time zone"):
        order_insights(service, now.replace(tzinfo=None), None)
    with pytest.raises(InvalidInput, match="before"):
        order_insights(service, now, now - timedelta(hours=1))
    with pytest.raises(InvalidInput, match="366 days"):
        order_insights(service, now - timedelta(days=400), now)
