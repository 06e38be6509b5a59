"""Category 7, order processes: a process left NEEDS_ATTENTION, and one that ended while a
system still shows its order live. Both are repaired through the order process itself."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from resolvers.errors import InvalidInput
from resolvers.ports import CRM_APPROVED
from resolvers.reconcile import Category
from resolvers.records import OrderStatus
from resolvers.saga import (
    ApprovalRules,
    Journal,
    LineInput,
    OrderInput,
    OrderProcessService,
    ProcessStatus,
    Sealer,
)
from tests.support.reconcile import Rig
from tests.support.stack import JOURNAL_KEY

PROCESSES = {Category.PROCESSES}


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal(tmp_path / "orders.sqlite", Sealer.from_base64(JOURNAL_KEY))
    yield opened
    opened.close()


async def placed(rig: Rig, journal: Journal, key: str) -> tuple[OrderProcessService, str]:
    """An approved order placed through the order process; its process id."""
    service = OrderProcessService(rig.crm, rig.scm, journal, ApprovalRules(require_credit=False))
    [order, *_] = await rig.orders(OrderStatus.CREATED)
    stock = await rig.scm.reservable_stock(["SKU-00001", "SKU-00002", "SKU-00003"])
    sku = next(sku for sku, levels in stock.items() if any(s.available >= 1 for s in levels))
    assert order.customer_id is not None
    outcome = await service.place_order(
        OrderInput(order.customer_id, (LineInput(sku, Decimal(1)),)), key
    )
    assert outcome.status is ProcessStatus.APPROVED
    return service, outcome.process_id


async def test_a_process_needing_attention_is_found_and_resolved(
    rig: Rig, journal: Journal
) -> None:
    service, process_id = await placed(rig, journal, "recon-stuck")
    rig.erp.controls.update({"down": True})
    stuck = await service.cancel(process_id)
    rig.erp.controls.update({"down": False})
    assert stuck.status is ProcessStatus.NEEDS_ATTENTION

    [finding] = await rig.findings(PROCESSES, processes=journal)

    assert finding.rule.id == "processes.process_needs_attention"
    assert finding.key == (process_id,)
    assert [r.kind for r in finding.records][:2] == ["process", "order"]
    await rig.assert_repaired(finding, processes=journal, fixer=service)
    state = journal.load(process_id)
    assert state is not None
    assert state.status is ProcessStatus.CANCELLED


async def test_an_ended_process_whose_order_is_live_again_is_reopened(
    rig: Rig, journal: Journal
) -> None:
    service, process_id = await placed(rig, journal, "recon-ended")
    cancelled = await service.cancel(process_id)
    assert cancelled.status is ProcessStatus.CANCELLED
    assert cancelled.order is not None
    await rig.crm.set_order_status(cancelled.order.id, CRM_APPROVED)  # edited in the CRM

    found = await rig.findings(PROCESSES, processes=journal)

    [finding] = found
    assert finding.rule.id == "processes.process_live_after_end"
    assert {d.field: d.crm for d in finding.differences} == {"order.status": "APPROVED"}
    await rig.assert_repaired(finding, processes=journal, fixer=service)
    [order] = (await rig.crm.get_orders([cancelled.order.id])).values()
    assert order.status is OrderStatus.CANCELLED


async def test_a_process_repair_without_the_order_process_says_so(
    rig: Rig, journal: Journal
) -> None:
    service, process_id = await placed(rig, journal, "recon-nofixer")
    rig.erp.controls.update({"down": True})
    await service.cancel(process_id)
    rig.erp.controls.update({"down": False})
    [finding] = await rig.findings(PROCESSES, processes=journal)

    with pytest.raises(InvalidInput, match=r"\[saga\] enabled"):
        await rig.repair(finding, processes=journal)
