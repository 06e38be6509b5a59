"""ERPNext writes for the order saga, and Frappe's error envelopes, against the emulation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from backends.erpnext.store import ErpStore
from resolvers.erpnext import ERPNext
from resolvers.errors import BackendAuthError, BackendRejected
from tests.support.connectors import ERP_TODAY, erp_bin, erp_item, erp_options

DELIVERY = (ERP_TODAY + timedelta(days=9)).date()


@pytest.fixture
def stocked(erp_store: ErpStore) -> ErpStore:
    erp_store.insert("Item", [erp_item("SKU-1")])
    erp_store.insert("Bin", [erp_bin("SKU-1", "Stores - AC", 100)])
    erp_store.insert(
        "Customer", [{"name": "Cust A", "customer_name": "Cust A", "custom_crm_account_id": "111"}]
    )
    erp_store.recompute_bins()
    return erp_store


async def reserved(scm: ERPNext) -> Decimal:
    return (await scm.list_bins(["SKU-1"]))["SKU-1"][0].reserved


async def test_creating_submitting_and_cancelling_a_sales_order_moves_the_reservation(
    scm: ERPNext, stocked: ErpStore
) -> None:
    draft = await scm.create_sales_order(
        customer="Cust A",
        crm_order_id="crm-1",
        lines=[("SKU-1", Decimal(5), Decimal("9.5"), "Stores - AC")],
        delivery_date=DELIVERY,
        currency="USD",
    )
    assert (draft.docstatus, await reserved(scm)) == (0, Decimal(0))

    submitted = await scm.submit_sales_order(draft.name)
    assert submitted.docstatus == 1
    assert await reserved(scm) == Decimal(5)
    assert submitted.lines[0].reserved == Decimal(5)

    mirror = await scm.erp_orders_by_crm_ids(["crm-1", "crm-404"])
    assert list(mirror) == ["crm-1"]
    assert mirror["crm-1"].name == draft.name

    cancelled = await scm.cancel_sales_order(draft.name)
    assert cancelled.docstatus == 2
    assert await reserved(scm) == Decimal(0)


async def test_the_submitted_mirror_wins_over_a_cancelled_one_for_the_same_crm_order(
    scm: ERPNext, stocked: ErpStore
) -> None:
    lines = [("SKU-1", Decimal(1), Decimal(1), "Stores - AC")]
    names = []
    for _ in range(2):
        draft = await scm.create_sales_order(
            customer="Cust A",
            crm_order_id="crm-2",
            lines=lines,
            delivery_date=DELIVERY,
            currency="USD",
        )
        await scm.submit_sales_order(draft.name)
        names.append(draft.name)
    await scm.cancel_sales_order(names[0])

    mirror = (await scm.erp_orders_by_crm_ids(["crm-2"]))["crm-2"]

    assert (mirror.name, mirror.docstatus) == (names[1], 1)


async def test_customers_are_found_by_crm_id_and_created_with_frappes_naming(
    scm: ERPNext, stocked: ErpStore
) -> None:
    found = await scm.find_customer("111")
    missing = await scm.find_customer("999")
    created = await scm.create_customer(customer_name="Cust A", crm_account_id="222")

    assert found is not None
    assert found.name == "Cust A"
    assert missing is None
    assert (created.name, created.crm_account_id) == ("Cust A - 1", "222")


async def test_a_validation_error_is_rejected_with_frappes_decoded_message(
    scm: ERPNext, stocked: ErpStore
) -> None:
    with pytest.raises(BackendRejected) as caught:
        await scm.create_sales_order(
            customer="Nobody",
            crm_order_id="crm-3",
            lines=[("SKU-1", Decimal(1), Decimal(1), "Stores - AC")],
            delivery_date=DELIVERY,
            currency="USD",
        )

    error = caught.value
    assert error.status == 417
    assert error.system == "scm"
    assert error.backend_code is not None
    assert error.backend_code.endswith("Error")
    assert "Nobody" in error.message
    assert '\\"' not in error.message


async def test_bad_api_credentials_are_an_auth_error_that_names_no_secret(
    erp_client: httpx.AsyncClient,
) -> None:
    scm = ERPNext(erp_client, erp_options(api_secret="wrong-erp-secret"))

    with pytest.raises(BackendAuthError) as caught:
        await scm.ping()

    assert caught.value.status in (401, 403)
    assert "wrong-erp-secret" not in caught.value.message


async def test_a_by_name_get_quotes_spaces_and_answers_none_for_a_404(scm: ERPNext) -> None:
    found = await scm.wire.get_doc("Warehouse", "Stores - AC")
    missing = await scm.wire.get_doc("Sales Order", "SAL-ORD-2026-99999")

    assert found is not None
    assert found["warehouse_name"] == "Stores"
    assert missing is None


async def test_a_submitted_line_without_stock_reservation_entries_reserved_nothing(
    scm: ERPNext, stocked: ErpStore
) -> None:
    """A stock_reserved_qty of 0 is 0: it once read as 'the whole line is reserved'."""
    draft = await scm.create_sales_order(
        customer="Cust A", crm_order_id="crm-7", delivery_date=DELIVERY, currency="USD",
        lines=[("SKU-1", Decimal(500), Decimal(1), "Stores - AC")],  # 100 in stock
    )  # fmt: skip
    submitted = await scm.submit_sales_order(draft.name)
    assert submitted.lines[0].reserved == Decimal(100)  # only what was free
    entries = await scm.reservation_entries(draft.name)
    assert [(e.sku, e.reserved) for e in entries] == [("SKU-1", Decimal(100))]
    classic = await scm.create_sales_order(
        customer="Cust A", crm_order_id="crm-8", delivery_date=DELIVERY, currency="USD",
        lines=[("SKU-1", Decimal(5), Decimal(1), "Stores - AC")], reserve_stock=False,
    )  # fmt: skip
    await scm.submit_sales_order(classic.name)
    mirror = (await scm.erp_orders_by_crm_ids(["crm-8"]))["crm-8"]
    assert (mirror.docstatus, mirror.lines[0].reserved) == (1, Decimal(0))
    assert await scm.reservation_entries(classic.name) == []
