"""Concurrent checkouts of one SKU never oversell (issue 13, case 3).

N customers order the same SKU at once, together more than is available. Read from the ERP
itself: the sum of reserved quantities never exceeds what was available, every APPROVED order
is fully reserved by its Stock Reservation Entries, the rest are held with nothing reserved,
and no Bin's projected quantity goes below zero.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from resolvers.saga import ApprovalRules, ProcessStatus
from resolvers.saga.state import LineInput, OrderInput
from tests.support.saga import Systems

SKU = "SKU-RUSH"
WAREHOUSES = ("Stores - AC", "Finished Goods - AC", "Overflow - AC")


def _stock(systems: Systems, levels: tuple[int, ...]) -> None:
    erp = systems.erp.store
    erp.insert("Warehouse", [{"name": "Overflow - AC", "warehouse_name": "Overflow",
                              "company": "Acme Corp"}])  # fmt: skip
    erp.insert("Item", [{"item_code": SKU, "item_name": "Rush", "item_group": "Products",
                         "stock_uom": "Nos", "is_stock_item": 1}])  # fmt: skip
    erp.insert("Bin", [
        {"item_code": SKU, "warehouse": wh, "actual_qty": qty, "stock_uom": "Nos"}
        for wh, qty in zip(WAREHOUSES, levels, strict=False)
    ])  # fmt: skip
    erp.recompute_bins()
    systems.add_crm_product("Rush", SKU, 1)


def _customers(systems: Systems, n: int) -> list[str]:
    return systems.add_crm_accounts([f"Buyer {i}" for i in range(n)], 1_000_000)


def _sre_by_order(systems: Systems) -> dict[str, Decimal]:
    rows = systems.erp.store.query(
        "SELECT voucher_no, SUM(reserved_qty - delivered_qty) AS held FROM "
        '"tabStock Reservation Entry" WHERE item_code = ? AND docstatus = 1 GROUP BY voucher_no',
        (SKU,),
    )
    return {r["voucher_no"]: Decimal(str(r["held"])) for r in rows}


def _bins(systems: Systems) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = systems.erp.store.query(
        "SELECT warehouse, actual_qty, reserved_qty, projected_qty FROM tabBin WHERE item_code = ?",
        (SKU,),
    )
    return rows


def _greedy(levels: tuple[int, ...], n: int, quantity: int) -> int:
    """How many orders one-after-another approves: each takes the fullest warehouse if it can."""
    free, approved = list(levels), 0
    for _ in range(n):
        best = max(range(len(free)), key=free.__getitem__)
        if free[best] >= quantity:
            free[best] -= quantity
            approved += 1
    return approved


@pytest.mark.parametrize(
    ("n", "quantity", "levels"),
    [(8, 60, (53, 53, 84)), (6, 40, (55,)), (10, 25, (60, 30, 49)), (4, 50, (49, 49, 49))],
)
async def test_concurrent_checkouts_of_one_sku_never_reserve_more_than_is_available(
    systems: Systems, n: int, quantity: int, levels: tuple[int, ...]
) -> None:
    _stock(systems, levels)
    customers = _customers(systems, n)
    service = systems.service(rules=ApprovalRules())
    orders = [OrderInput(c, (LineInput(SKU, Decimal(quantity)),)) for c in customers]
    results = await asyncio.gather(
        *(service.place_order(o, f"rush-{i}", subject=f"buyer-{i}") for i, o in enumerate(orders))
    )

    held_by_order = _sre_by_order(systems)
    assert sum(held_by_order.values(), Decimal(0)) <= sum(levels)
    approved = [r for r in results if r.status is ProcessStatus.APPROVED]
    assert len(approved) == _greedy(levels, n, quantity)
    ids = [r.order.id for r in results if r.order is not None]
    mirrors = await systems.scm.erp_orders_by_crm_ids(ids)
    for result in results:
        assert result.order is not None
        mirror = mirrors.get(result.order.id)
        live = mirror is not None and mirror.docstatus == 1
        if result.status is ProcessStatus.APPROVED:
            assert live
            assert mirror is not None
            assert held_by_order.get(mirror.name) == quantity  # fully reserved in the ERP
            assert [r.reserved for r in result.reservations] == [Decimal(quantity)]
        else:
            assert result.status is ProcessStatus.PENDING_APPROVAL
            assert not live  # held: no submitted mirror, nothing reserved
            assert result.reservations == ()
    assert all(b["projected_qty"] >= 0 for b in _bins(systems)), _bins(systems)
    assert await systems.violations() == []
