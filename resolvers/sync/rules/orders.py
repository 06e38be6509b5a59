"""Rules 4 and 5: a CRM Sales_Order cancelled or approved outside Crossdock.

"Outside" is read from the order process's journal: the CRM says Cancelled (or Approved)
while the process that placed the order does not. Both go through the order process itself,
so its locks, steps and checks apply exactly as for cancelOrder and approveOrder:

4. Cancelled → `OrderProcessService.cancel`: the ERP mirror is cancelled, its reservation
   released (the CRM order is Cancelled already, so the process writes nothing there). An
   order without a process (not placed through Crossdock) gets the same compensation step,
   `cancel_mirrors`.
5. Approved → `OrderProcessService.approve`: the approval steps (mirror, reservation, check)
   under the stock locks. When they fail, the process puts the CRM order back to Pending
   Approval (no Approved order without its reservation), and the note says why. An order
   without a process cannot be approved this way (its prices and warehouses were never
   decided): it is reported.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from resolvers.errors import CrossdockError
from resolvers.records import Order, OrderStatus
from resolvers.saga import PlaceOrderOutcome, ProcessStatus
from resolvers.saga.steps import cancel_mirrors

from ..change import Change
from .base import Applied, RuleContext, Snapshot, Write

log = logging.getLogger("crossdock.sync")
CANCELLABLE = (
    ProcessStatus.PENDING_APPROVAL,
    ProcessStatus.APPROVED,
    ProcessStatus.NEEDS_ATTENTION,
)
APPROVER = "the CRM (outside Crossdock)"


def _crm_order(change: Change) -> bool:
    return change.system == "crm" and change.entity == "order"


class OrderCancelled:
    name = "order_cancelled"

    def applies(self, change: Change) -> bool:
        return _crm_order(change)

    async def apply(self, ctx: RuleContext, change: Change, current: Snapshot) -> Applied:
        order = current.record
        if not isinstance(order, Order) or order.status is not OrderStatus.CANCELLED:
            return Applied(self.name)
        service = ctx.order_process
        view = await service.get_process(order.id) if service else None
        if service is not None and view is not None and view.status in CANCELLABLE:
            outcome = await _run(service.cancel(view.id))
            what = f"order process {view.id} cancelled from the CRM: {_result(outcome)}"
            return Applied(self.name, (_mirror(order, what),), what)
        async with ctx.lock(f"crm:order:{order.id}"):
            done = await cancel_mirrors(ctx.scm, order.id)
        writes = tuple(_mirror(order, what) for what in done)
        return Applied(self.name, writes, "; ".join(done) or "no live ERP mirror")


class OrderApproved:
    name = "order_approved"

    def applies(self, change: Change) -> bool:
        return _crm_order(change)

    async def apply(self, ctx: RuleContext, change: Change, current: Snapshot) -> Applied:
        order = current.record
        if not isinstance(order, Order) or order.status is not OrderStatus.APPROVED:
            return Applied(self.name)
        service = ctx.order_process
        view = await service.get_process(order.id) if service else None
        if service is None or view is None:
            message = (
                f"CRM order {order.id} was approved but not placed through Crossdock: "
                "no order process to mirror and reserve it"
            )
            return _report(self.name, message)
        if view.status is ProcessStatus.PENDING_APPROVAL:
            outcome = await _run(service.approve(view.id, approver=APPROVER))
            what = f"order process {view.id} approved from the CRM: {_result(outcome)}"
            return Applied(self.name, (_mirror(order, what),), what)
        if view.status in (ProcessStatus.APPROVED, ProcessStatus.RUNNING):
            return Applied(self.name)
        message = f"CRM order {order.id} is Approved but its order process {view.id} is " + (
            view.status.value
        )
        return _report(self.name, message)


async def _run(call: Awaitable[PlaceOrderOutcome]) -> PlaceOrderOutcome | CrossdockError:
    """The process's own refusal (it moved on meanwhile) is an outcome, not a failure."""
    try:
        return await call
    except CrossdockError as exc:
        if exc.code != "INVALID_STATE":
            raise
        return exc


def _result(outcome: PlaceOrderOutcome | CrossdockError) -> str:
    if isinstance(outcome, CrossdockError):
        return f"not needed ({outcome.message})"
    error = f" ({outcome.error.code}: {outcome.error.message})" if outcome.error else ""
    return outcome.status.value + error


def _mirror(order: Order, what: str) -> Write:
    return Write("erp", "sales_order", order.id, what)


def _report(rule: str, message: str) -> Applied:
    log.warning("sync: %s", message)
    return Applied(rule, note=f"reported: {message}")
