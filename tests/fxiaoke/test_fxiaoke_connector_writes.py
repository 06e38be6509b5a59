"""The order saga's writes through the connector: idempotent create, status, no flows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backends.fxiaoke.app import FxiaokeEmulator
from backends.fxiaoke.store import FxStore
from resolvers.errors import BackendRejected, InvalidInput
from resolvers.fxiaoke import FxiaokeCRM
from resolvers.ports import CRM_APPROVED, CRM_PENDING
from resolvers.records import Order, OrderStatus


def _first(store: FxStore, api_name: str) -> dict[str, str]:
    record: dict[str, str] = store.select(api_name, "1", (), "_id", 1, 0)[0]
    return record


async def _upsert(crm: FxiaokeCRM, store: FxStore, ref: str) -> tuple[Order, bool]:
    account, product = _first(store, "AccountObj"), _first(store, "ProductObj")
    return await crm.upsert_order(
        external_ref=ref,
        subject="Crossdock order",
        account_id=account["_id"],
        status=CRM_PENDING,
        lines=[(product["_id"], Decimal(3), Decimal("12.50"))],
        currency="USD",
    )


async def test_upsert_creates_once_then_finds(
    crm: FxiaokeCRM, store: FxStore, emulator: FxiaokeEmulator
) -> None:
    order, created = await _upsert(crm, store, "proc-1")
    assert created
    again, created_again = await _upsert(crm, store, "proc-1")
    assert (again, created_again) == (order, False)
    assert emulator.stats.routes["POST /cgi/crm/v2/data/create"] == 1


async def test_the_created_order_reads_back_canonical(crm: FxiaokeCRM, store: FxStore) -> None:
    order, _ = await _upsert(crm, store, "proc-2")
    got = await crm.find_order(external_ref="proc-2")
    assert got == order
    assert got is not None
    assert got.status is OrderStatus.PENDING_APPROVAL
    assert got.total.amount == Decimal("37.50")
    assert [(line.sku, line.quantity) for line in got.lines] == [("SKU-00001", Decimal(3))]


async def test_writes_trigger_no_approval_or_work_flow(
    crm: FxiaokeCRM, store: FxStore, emulator: FxiaokeEmulator
) -> None:
    order, _ = await _upsert(crm, store, "proc-3")
    await crm.set_order_status(order.id, CRM_APPROVED)
    assert emulator.verbs.flows_started == 0


async def test_set_order_status_maps_the_label_to_the_option_value(
    crm: FxiaokeCRM, store: FxStore
) -> None:
    order, _ = await _upsert(crm, store, "proc-4")
    approved = await crm.set_order_status(order.id, CRM_APPROVED)
    assert approved.status is OrderStatus.APPROVED
    assert store.get("SalesOrderObj", [approved.id])[approved.id]["field_order_status__c"] == (
        "approved"
    )


async def test_a_status_label_the_tenant_lacks_is_refused(crm: FxiaokeCRM, store: FxStore) -> None:
    order_id = _first(store, "SalesOrderObj")["_id"]
    with pytest.raises(BackendRejected, match="no option labelled"):
        await crm.set_order_status(order_id, "Shipped To Mars")


async def test_an_id_that_cannot_exist_is_bad_input(crm: FxiaokeCRM) -> None:
    with pytest.raises(InvalidInput):
        await crm.set_order_status("not-an-id", CRM_APPROVED)
