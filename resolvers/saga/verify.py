"""Re-reading both systems to confirm where a process ended (or to find it must reopen).

A process is FAILED or CANCELLED only if the CRM order for its key is absent or Cancelled and
no ERP mirror of it is a draft or submitted; it is back in PENDING_APPROVAL (after a failed
approval) only if the CRM order is not Approved and no mirror is live. Any other reading is a
disagreement: the engine undoes again, and the resolver reopens a process whose late write
lands after it ended.

    problems = await disagreements(ctx, state, ProcessStatus.FAILED)   # [] when both agree
"""

from __future__ import annotations

from resolvers.records import Order, OrderStatus

from .state import ProcessState, ProcessStatus
from .steps import StepContext

_DOCSTATUS = {0: "a draft", 1: "submitted"}


async def crm_order_of(ctx: StepContext, state: ProcessState) -> Order | None:
    """The CRM order of a process: by the id it recorded, else by `External_Ref` (its key)."""
    if state.crm_order_id is not None:
        found = (await ctx.crm.get_orders([state.crm_order_id])).get(state.crm_order_id)
        if found is not None:
            return found
    return await ctx.crm.find_order(external_ref=state.idempotency_key)


async def disagreements(ctx: StepContext, state: ProcessState, target: ProcessStatus) -> list[str]:
    """What both systems show that contradicts `target`; BackendError when one cannot be read."""
    order = await crm_order_of(ctx, state)
    if order is None:
        return []
    problems: list[str] = []
    if target is ProcessStatus.PENDING_APPROVAL:
        if order.status is OrderStatus.APPROVED:
            problems.append(f"the CRM order {order.id} is Approved")
    elif order.status is not OrderStatus.CANCELLED:
        problems.append(f"the CRM order {order.id} is {order.status.value}, not Cancelled")
    for mirror in await ctx.scm.mirrors_of(order.id):
        if mirror.docstatus in _DOCSTATUS:
            problems.append(f"ERP sales order {mirror.name} is {_DOCSTATUS[mirror.docstatus]}")
    return problems
