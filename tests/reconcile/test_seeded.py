"""On the seeded data, reconciliation finds the three planted mismatches and nothing else."""

from __future__ import annotations

import pytest

from backends.seed import MISMATCHES
from backends.seed_names import MISMATCH_SHIPMENT, ORPHAN_ACCOUNT_ID, ORPHAN_CUSTOMER, UNMATCHED_SKU
from resolvers.reconcile import Category, Severity
from tests.support.reconcile import Rig

# seed mismatch kind -> the rule that must find it
EXPECTED = {
    "crm_product_without_item": "counterparts.product_without_item",
    "shipment_for_cancelled_order": "shipments.shipment_for_cancelled_order",
    "dangling_customer_crosswalk": "counterparts.customer_without_account",
}


async def test_the_three_seeded_mismatches_are_found_and_nothing_else(rig: Rig) -> None:
    found = await rig.findings()

    assert sorted((f.rule.id, f.key[0]) for f in found) == sorted(
        (EXPECTED[m.kind], m.key) for m in MISMATCHES
    )


async def test_each_seeded_finding_carries_its_evidence(rig: Rig) -> None:
    found = {f.rule.id: f for f in await rig.findings()}

    item = found["counterparts.product_without_item"]
    assert item.records[0].system == "crm"
    assert item.records[0].id == UNMATCHED_SKU
    assert item.severity is Severity.ERROR  # it cannot be ordered
    assert item.fix.repair == "create_erp_item"

    shipment = found["shipments.shipment_for_cancelled_order"]
    kinds = {(r.system, r.kind) for r in shipment.records}
    assert kinds == {("erp", "shipment"), ("crm", "order")}
    assert shipment.records[0].id == MISMATCH_SHIPMENT
    assert shipment.differences[0].crm == "CANCELLED"
    assert shipment.severity is Severity.ERROR
    assert not shipment.fix.fixable

    dangling = found["counterparts.customer_without_account"]
    assert dangling.records[0].id == ORPHAN_CUSTOMER
    assert dangling.differences[0].erp == ORPHAN_ACCOUNT_ID
    assert "no CRM account" in dangling.summary


async def test_a_category_filter_runs_only_that_category(rig: Rig) -> None:
    found = await rig.findings({Category.SHIPMENTS})

    assert [f.rule.id for f in found] == ["shipments.shipment_for_cancelled_order"]


async def test_categories_and_groups_choose_and_unknown_ones_are_named(rig: Rig) -> None:
    one = await rig.findings(["product_without_item"])
    group = await rig.findings(["counterparts"])

    assert [f.rule.name for f in one] == ["product_without_item"]
    assert sorted(f.rule.name for f in group) == [
        "customer_without_account",
        "product_without_item",
    ]
    with pytest.raises(ValueError, match="unknown reconciliation categories \\['nope'\\]"):
        await rig.findings(["nope"])


async def test_a_run_reads_every_record_once_and_writes_nothing(rig: Rig) -> None:
    reconciler = rig.reconciler()
    found = [f async for f in reconciler.run()]

    report = reconciler.report
    assert report is not None
    assert report.findings == len(found) == 3
    assert report.read["crm orders"] == rig.crm_orders_stored()
    assert report.read["erp sales orders"] == rig.erp.store.count("Sales Order")
    assert rig.writes() == 0
