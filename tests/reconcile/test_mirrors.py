"""Category 2, order mirrors: each rule planted through the emulations' APIs, found with its
evidence, repaired where Crossdock can, and gone on the next run."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from resolvers.ports import CRM_APPROVED, CRM_CANCELLED
from resolvers.reconcile import Category, Severity
from resolvers.records import OrderStatus
from tests.support.reconcile import Rig

MIRRORS = {Category.MIRRORS}


async def test_a_mirror_left_submitted_for_a_cancelled_order_is_found_and_cancelled(
    rig: Rig,
) -> None:
    order, mirror = await rig.unshipped_approved()
    reserved = await rig.scm.list_bins([order.lines[0].sku])
    await rig.crm.set_order_status(order.id, CRM_CANCELLED)

    [finding] = await rig.findings(MIRRORS)

    assert finding.rule.id == "mirrors.live_mirror_of_cancelled_order"
    assert finding.severity is Severity.ERROR
    assert [(r.system, r.kind, r.id) for r in finding.records] == [
        ("crm", "order", order.id),
        ("erp", "sales_order", mirror.name),
    ]
    assert finding.differences[0].crm == "CANCELLED"
    assert finding.differences[0].erp == "submitted"
    assert "still reserve" in finding.summary
    assert finding.fix.targets == (mirror.name,)
    outcome = await rig.assert_repaired(finding)
    assert [(a.operation, a.before, a.after) for a in outcome.actions] == [
        ("cancel", {"docstatus": "submitted"}, {"docstatus": "cancelled"})
    ]
    assert [m.docstatus for m in await rig.mirrors(order)] == [2]
    after = await rig.scm.list_bins([order.lines[0].sku])
    assert sum(s.reserved for s in after[order.lines[0].sku]) < sum(
        s.reserved for s in reserved[order.lines[0].sku]
    )


async def test_an_approved_order_without_a_mirror_is_found_and_not_repaired(rig: Rig) -> None:
    [order, *_] = await rig.orders(OrderStatus.CREATED)
    await rig.crm.set_order_status(order.id, CRM_APPROVED)

    [finding] = await rig.findings(MIRRORS)

    assert finding.rule.id == "mirrors.approved_without_mirror"
    assert finding.key == (order.id,)
    assert not finding.fix.fixable
    assert finding.fix.who
    assert finding.fix.why
    before = rig.writes()
    outcome = await rig.repair(finding)
    assert outcome.status == "not_fixable"
    assert finding.fix.who in outcome.message
    assert rig.writes() == before


async def test_an_approved_order_with_only_a_draft_mirror_gets_the_draft_submitted(
    rig: Rig,
) -> None:
    [order, *_] = await rig.orders(OrderStatus.CREATED)
    await rig.crm.set_order_status(order.id, CRM_APPROVED)
    draft = await rig.mirror(order)

    [finding] = await rig.findings(MIRRORS)

    assert finding.rule.id == "mirrors.approved_without_mirror"
    assert finding.fix.repair == "submit_draft_mirror"
    assert finding.fix.targets == (draft.name,)
    await rig.assert_repaired(finding)
    assert [m.docstatus for m in await rig.mirrors(order)] == [1]


async def test_a_live_sales_order_naming_no_crm_order_is_found_and_cancelled(rig: Rig) -> None:
    [order, *_] = await rig.orders(OrderStatus.CREATED)
    made = await rig.scm.create_sales_order(
        customer=await rig.erp_customer_of(order),
        crm_order_id="5725767000888888888",
        lines=[(order.lines[0].sku, Decimal(1), Decimal(10), "Stores - AC")],
        delivery_date=(rig.now + timedelta(days=3)).date(),
        currency="USD",
    )
    await rig.scm.submit_sales_order(made.name)

    [finding] = await rig.findings(MIRRORS)

    assert finding.rule.id == "mirrors.live_mirror_without_order"
    assert finding.key == (made.name, "5725767000888888888")
    assert finding.differences[0].erp == "5725767000888888888"
    await rig.assert_repaired(finding)


async def test_a_second_live_mirror_is_found_and_the_extra_one_released(rig: Rig) -> None:
    order, kept = await rig.unshipped_approved()
    extra = await rig.mirror(order)

    [finding] = await rig.findings(MIRRORS)

    assert finding.rule.id == "mirrors.several_live_mirrors"
    assert {r.id for r in finding.records if r.kind == "sales_order"} == {kept.name, extra.name}
    assert finding.fix.targets == (extra.name,)
    outcome = await rig.assert_repaired(finding)
    assert [a.operation for a in outcome.actions] == ["delete"]
    assert [(m.name, m.docstatus) for m in await rig.mirrors(order)] == [(kept.name, 1)]


async def test_a_draft_mirror_of_a_held_order_is_stale_only_after_the_threshold(rig: Rig) -> None:
    [order, *_] = await rig.orders(OrderStatus.PENDING_APPROVAL)
    await rig.mirror(order)

    assert await rig.findings(MIRRORS) == []
    rig.later(timedelta(hours=25))
    [finding] = await rig.findings(MIRRORS)

    assert finding.rule.id == "mirrors.stale_draft"
    assert finding.severity is Severity.WARNING
    await rig.assert_repaired(finding)
    assert await rig.mirrors(order) == []


async def test_a_mirror_with_deliveries_is_not_released_by_crossdock(rig: Rig) -> None:
    for order in await rig.orders(OrderStatus.DELIVERED):
        if len(await rig.mirrors(order)) == 1:
            break
    await rig.crm.set_order_status(order.id, CRM_CANCELLED)

    found = await rig.findings(MIRRORS)

    [finding] = [f for f in found if f.key == (order.id,)]
    assert finding.rule.id == "mirrors.live_mirror_of_cancelled_order"
    assert not finding.fix.fixable
    assert "delivered" in (finding.fix.why or "")
