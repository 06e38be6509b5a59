"""Holding an order whose stock cannot be reserved in full, and verifying what was reserved.

Under the stock lock (see `locks`), the process checks again that one warehouse can serve
each SKU before it creates the ERP mirror, and after the submit it reads the Stock
Reservation Entries back. An order with less reserved than ordered is never APPROVED by the
process: it is held for approval (`PENDING_APPROVAL`, CRM status "Pending Approval") with a
failed `reservation` reason. `on_short_reservation = "release"` (the default) cancels the
mirror first, so no stock stays half-held and projected stock is unchanged; `"hold"` keeps
the mirror and its partial reservation for an operator to complete or cancel.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Literal

from resolvers.ports import CRM_PENDING, CrmPort, ErpPort
from resolvers.records import ErpOrder, ReservationEntry

from .approval import Approval, Decision, Reason
from .state import ProcessState, Reservation

ShortPolicy = Literal["release", "hold"]
SHORT_POLICIES: tuple[ShortPolicy, ...] = ("release", "hold")
RESERVATION_RULE = "reservation"
# The forward steps that reserve; approving a held order runs them again.
RESERVING_STEPS = ("erp_order_create", "erp_order_submit", "erp_reservation_check", "crm_status")


def reserved_by_row(entries: Sequence[ReservationEntry]) -> dict[str, Decimal]:
    """What the reservation entries hold per sales order row."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        totals[entry.row_name] += entry.reserved
    return dict(totals)


def reservations_of(order: ErpOrder, reserved: Mapping[str, Decimal]) -> tuple[Reservation, ...]:
    """Each line of the mirror with what its Stock Reservation Entries hold (0 if none)."""
    return tuple(
        Reservation(ln.sku, ln.warehouse, ln.quantity, reserved.get(ln.row_name or "", Decimal(0)))
        for ln in order.lines
    )


def shortfalls(reservations: Sequence[Reservation]) -> list[Reservation]:
    return [r for r in reservations if r.reserved < r.quantity]


def short_message(short: Sequence[Reservation]) -> str:
    parts = [f"{r.sku} {r.reserved} of {r.quantity} in {r.warehouse}" for r in short]
    return "the ERP reserved less than ordered: " + "; ".join(parts)


async def hold_for_stock(
    crm: CrmPort,
    scm: ErpPort,
    state: ProcessState,
    message: str,
    mirror: ErpOrder | None,
    *,
    on_short: ShortPolicy,
) -> ProcessState:
    """Hold the order for approval: release the mirror (if `on_short` says so), mark the CRM
    order."""
    reservations = state.reservations
    if mirror is not None and mirror.docstatus == 1 and on_short == "release":
        await scm.cancel_sales_order(mirror.name)
        reservations = ()
    crm_id = state.crm_order_id
    if crm_id is not None:
        await crm.set_order_status(crm_id, CRM_PENDING)
    earlier = state.approval.reasons if state.approval else ()
    approval = Approval(
        Decision.PENDING_APPROVAL, (*earlier, Reason(RESERVATION_RULE, message, False))
    )
    return dataclasses.replace(state, approval=approval, reservations=reservations)
