"""Category 5 (reservations) and 6 (duplicates), planted through both emulations' APIs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from resolvers.reconcile import Category, Severity
from resolvers.records import OrderStatus
from tests.support.reconcile import Rig


async def test_stock_reserved_by_an_erp_only_sales_order_is_found(rig: Rig) -> None:
    [order, *_] = await rig.orders(OrderStatus.CREATED)
    sku = "SKU-00004"
    before = {s.warehouse_id: s.reserved for s in (await rig.scm.list_bins([sku]))[sku]}
    made = await rig.scm.create_sales_order(
        customer=await rig.erp_customer_of(order),
        crm_order_id="",
        lines=[(sku, Decimal(5), Decimal(10), "Transit Hub - AC")],
        delivery_date=(rig.now + timedelta(days=3)).date(),
        currency="USD",
    )
    await rig.scm.submit_sales_order(made.name)

    [finding] = await rig.findings({Category.RESERVATIONS})

    assert finding.rule.id == "reservations.reserved_differs"
    assert finding.key == (sku, "Transit Hub - AC")
    [difference] = finding.differences
    assert Decimal(difference.erp or "0") == before["Transit Hub - AC"] + 5
    assert Decimal(difference.crm or "0") == before["Transit Hub - AC"]
    assert "5 more" in finding.summary
    assert not finding.fix.fixable
    assert await rig.findings({Category.MIRRORS}) == []  # not a mirror: it names no CRM order


async def test_the_seeded_reservations_match_the_approved_orders(rig: Rig) -> None:
    assert await rig.findings({Category.RESERVATIONS}) == []


async def test_crm_accounts_with_one_name_and_country_are_reported_never_merged(
    rig: Rig,
) -> None:
    page = await rig.crm.list_accounts(first=200, after=None)
    account = next(a for a in page.items if a.billing_address and a.billing_address.country)
    assert account.billing_address is not None
    twin = {
        "Account_Name": f"{account.name.upper()}.",
        "Billing_Country": account.billing_address.country,
    }
    twin_id = await rig.crm_create("Accounts", twin)
    if not rig.fxiaoke:  # Fxiaoke keeps AccountObj names unique: no same-name account at all
        elsewhere = {"Account_Name": account.name, "Billing_Country": "Japan"}
        await rig.crm_create("Accounts", elsewhere)

    [finding] = await rig.findings({Category.DUPLICATES})

    assert finding.rule.id == "duplicates.duplicate_accounts"
    assert finding.severity is Severity.INFO
    assert finding.key == tuple(sorted((account.id, twin_id)))
    assert {d.field for d in finding.differences} == {"name", "country"}
    before = rig.writes()
    outcome = await rig.repair(finding)
    assert outcome.status == "not_fixable"
    assert "never" in outcome.message
    assert rig.writes() == before


async def test_erp_customers_sharing_one_crm_account_are_found(rig: Rig) -> None:
    [order, *_] = await rig.orders(OrderStatus.CREATED)
    assert order.customer_id is not None
    made = await rig.scm.create_customer(
        customer_name="Second Copy Ltd", crm_account_id=order.customer_id
    )

    [finding] = await rig.findings({Category.DUPLICATES})

    assert finding.rule.id == "duplicates.shared_crosswalk"
    assert finding.key == (order.customer_id,)
    assert made.name in [r.id for r in finding.records]
