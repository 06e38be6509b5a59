"""Category 4, drift after normalisation, planted through both emulations' APIs."""

from __future__ import annotations

from resolvers.ports import CRM_APPROVED
from resolvers.reconcile import Category
from resolvers.records import Customer, OrderStatus
from tests.support.reconcile import Rig

DRIFT = {Category.DRIFT}


async def an_account(rig: Rig) -> tuple[Customer, str, str]:
    """A CRM account in Germany, its ERP customer and that customer's primary address."""
    page = await rig.crm.list_accounts(first=200, after=None)
    account = next(
        a for a in page.items if a.shipping_address and a.shipping_address.country == "DE"
    )
    [customer] = (await rig.scm.customers_by_crm_ids([account.id]))[account.id]
    doc = await rig.scm.wire.get_doc("Customer", customer.name)
    assert doc is not None
    return account, customer.name, str(doc["customer_primary_address"])


async def test_case_spacing_and_country_codes_are_not_drift(rig: Rig) -> None:
    account, customer, address = await an_account(rig)
    assert account.shipping_address is not None
    city = account.shipping_address.city or ""
    await rig.scm.wire.update("Customer", customer, {"customer_name": f"  {account.name.upper()} "})
    await rig.scm.wire.update("Address", address, {"country": "DE", "city": f" {city.lower()}  "})
    await rig.crm_update("Accounts", account.id, {"Shipping_Country": "Germany"})

    assert await rig.findings(DRIFT) == []


async def test_a_renamed_customer_and_a_moved_address_are_written_back_from_the_crm(
    rig: Rig,
) -> None:
    account, customer, address = await an_account(rig)
    assert account.shipping_address is not None
    await rig.scm.wire.update("Customer", customer, {"customer_name": "Somebody Else GmbH"})
    await rig.scm.wire.update("Address", address, {"city": "Dresden", "pincode": "01067"})

    [finding] = await rig.findings(DRIFT)

    assert finding.rule.id == "drift.customer_differs"
    assert finding.key == (account.id, customer)
    assert {d.field: (d.crm, d.erp) for d in finding.differences} == {
        "name": (account.name, "Somebody Else GmbH"),
        "address.city": (account.shipping_address.city, "Dresden"),
        "address.postal_code": (account.shipping_address.postal_code, "01067"),
    }
    outcome = await rig.assert_repaired(finding)
    assert outcome.actions[0].before["name"] == "Somebody Else GmbH"
    assert outcome.actions[0].after["name"] == account.name
    doc = await rig.scm.wire.get_doc("Address", address)
    assert doc is not None
    assert doc["country"] == "Germany"  # written as the ERP names countries


async def test_an_address_repair_keeps_the_kind_of_the_customers_primary_address(
    rig: Rig,
) -> None:
    """The repair writes through the sync rules' `save_address`, onto the primary address
    the drift rule compared, whatever its kind; the customer's name is left alone."""
    account, _, address = await an_account(rig)
    assert account.shipping_address is not None
    await rig.scm.wire.update("Address", address, {"address_type": "Billing", "city": "Dresden"})

    [finding] = await rig.findings(DRIFT)
    assert [d.field for d in finding.differences] == ["address.city"]
    await rig.assert_repaired(finding)

    doc = await rig.scm.wire.get_doc("Address", address)
    assert doc is not None
    assert (doc["address_type"], doc["city"]) == ("Billing", account.shipping_address.city)
    [now] = (await rig.scm.customers_by_crm_ids([account.id]))[account.id]
    assert now.address is not None
    assert now.address.kind == "Billing"
    assert now.customer_name == account.name


async def test_a_renamed_or_disabled_item_is_written_back_from_the_crm(rig: Rig) -> None:
    await rig.scm.wire.update("Item", "SKU-00002", {"item_name": "Something else", "disabled": 1})
    [product] = (await rig.crm.products_by_sku(["SKU-00003"])).values()
    await rig.scm.wire.update("Item", "SKU-00003", {"item_name": f" {product.name.upper()} "})

    [finding] = await rig.findings(DRIFT)

    assert finding.rule.id == "drift.product_differs"
    assert finding.key == ("SKU-00002",)
    assert {d.field: d.erp for d in finding.differences} == {
        "name": "Something else",
        "active": "false",
    }
    await rig.assert_repaired(finding)
    item = (await rig.scm.get_items(["SKU-00002"]))["SKU-00002"]
    assert not item.disabled


async def test_mirror_lines_that_differ_from_the_crm_order_are_found(rig: Rig) -> None:
    [order, *_] = await rig.orders(OrderStatus.CREATED)
    await rig.crm.set_order_status(order.id, CRM_APPROVED)
    mirror = await rig.mirror(order, quantity_delta=1, submit=True)

    [finding] = await rig.findings(DRIFT)

    assert finding.rule.id == "drift.order_lines_differ"
    assert finding.key == (order.id, mirror.name)
    first = order.lines[0]
    difference = next(d for d in finding.differences if d.field == f"lines[{first.sku}].quantity")
    assert (difference.crm, difference.erp) == (
        format(first.quantity.normalize(), "f"),
        format((first.quantity + 1).normalize(), "f"),
    )
    assert not finding.fix.fixable
    assert await rig.findings({Category.MIRRORS}) == []
