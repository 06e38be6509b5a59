"""Category 1, missing counterparts, planted through both emulations' APIs."""

from __future__ import annotations

from decimal import Decimal

from backends.seed_names import ORPHAN_CUSTOMER, UNMATCHED_SKU
from resolvers.reconcile import Category, Finding
from resolvers.records import OrderStatus
from tests.support.reconcile import Rig

COUNTERPARTS = {Category.COUNTERPARTS}
SEEDED = {(UNMATCHED_SKU,), (ORPHAN_CUSTOMER,)}  # the seed's own mismatches (test_seeded)


async def new_findings(rig: Rig) -> list[Finding]:
    return [f for f in await rig.findings(COUNTERPARTS) if f.key not in SEEDED]


async def test_an_active_crm_product_without_item_is_found_an_inactive_one_is_not(
    rig: Rig,
) -> None:
    products = [
        {"Product_Name": "Crate", "Product_Code": "SKU-07001", "Product_Active": True},
        {"Product_Name": "Retired crate", "Product_Code": "SKU-07002", "Product_Active": False},
    ]
    for product in products:
        await rig.crm_create("Products", product)

    [finding] = await new_findings(rig)

    assert finding.rule.id == "counterparts.product_without_item"
    assert finding.key == ("SKU-07001",)
    assert finding.records[0].label == "Crate"
    assert finding.fix.repair == "create_erp_item"


async def test_a_product_without_item_gets_its_item_created_once_and_a_dry_run_writes_nothing(
    rig: Rig,
) -> None:
    [finding] = await rig.findings(["product_without_item"])  # the seeded SKU-00999

    applied = await rig.assert_repaired(finding)

    [action] = applied.actions
    assert (action.operation, action.target.kind, action.target.id) == (
        "create",
        "item",
        UNMATCHED_SKU,
    )
    item = await rig.scm.wire.get_doc("Item", UNMATCHED_SKU)
    assert item["item_group"] == "Products"  # [scm] item_group's default
    assert item["disabled"] == 0


async def test_an_enabled_erp_item_without_crm_product_is_found_a_disabled_one_is_not(
    rig: Rig,
) -> None:
    for code, disabled in (("SKU-08001", 0), ("SKU-08002", 1)):
        await rig.scm.wire.insert(
            "Item",
            {
                "item_code": code,
                "item_name": f"Pallet {code}",
                "item_group": "Products",
                "stock_uom": "Nos",
                "disabled": disabled,
            },
        )

    [finding] = await new_findings(rig)

    assert finding.rule.id == "counterparts.item_without_product"
    assert [(r.system, r.kind, r.id) for r in finding.records] == [("erp", "item", "SKU-08001")]


async def test_an_account_with_open_orders_and_no_erp_customer_gets_one_created(rig: Rig) -> None:
    account_id = await rig.crm_create("Accounts", {"Account_Name": "Fjord Freight AS"})
    [product] = (await rig.crm.products_by_sku(["SKU-00001"])).values()
    order, _ = await rig.crm.upsert_order(
        external_ref="recon-test-1",
        subject="Fjord order",
        account_id=account_id,
        status="Created",
        lines=[(product.id, Decimal(2), Decimal(10))],
        currency="USD",
    )

    [finding] = await new_findings(rig)

    assert finding.rule.id == "counterparts.account_without_customer"
    assert finding.key == (account_id,)
    assert ("crm", "order", order.id) in [(r.system, r.kind, r.id) for r in finding.records]
    assert "1 open order" in finding.summary
    outcome = await rig.assert_repaired(finding)
    assert outcome.actions[0].after["custom_crm_account_id"] == account_id
    created = await rig.scm.customers_by_crm_ids([account_id])
    assert [c.customer_name for c in created[account_id]] == ["Fjord Freight AS"]


async def test_an_account_whose_only_orders_are_cancelled_needs_no_erp_customer(
    rig: Rig,
) -> None:
    account_id = await rig.crm_create("Accounts", {"Account_Name": "Gone Ltd"})
    [product] = (await rig.crm.products_by_sku(["SKU-00001"])).values()
    await rig.crm.upsert_order(
        external_ref="recon-test-2",
        subject="Gone order",
        account_id=account_id,
        status="Cancelled",
        lines=[(product.id, Decimal(1), Decimal(10))],
        currency="USD",
    )

    assert await new_findings(rig) == []


async def test_an_erp_customer_pointing_to_no_account_is_found(rig: Rig) -> None:
    await rig.scm.create_customer(
        customer_name="Nowhere GmbH", crm_account_id="5725767000777777777"
    )

    found = [f for f in await rig.findings(COUNTERPARTS) if f.key == ("Nowhere GmbH",)]

    [finding] = found
    assert finding.rule.id == "counterparts.customer_without_account"
    assert finding.differences[0].erp == "5725767000777777777"
    outcome = await rig.repair(finding)
    assert outcome.status == "not_fixable"


async def test_the_seeded_orders_all_have_their_customers(rig: Rig) -> None:
    assert await rig.orders(OrderStatus.APPROVED)
    assert await new_findings(rig) == []
