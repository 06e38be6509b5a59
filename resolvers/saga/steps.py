"""The steps of the order process. Each one is safe to run again after a crash.

Forward: validate → decide → crm_upsert → erp_customer → (approved only) erp_order_create →
erp_order_submit → erp_reservation_check → crm_status (the reservation check holds an order
the ERP could not reserve in full, see `reservation`). Undo, in reverse: erp_order_cancel →
crm_order_cancel; after a failed approval only crm_status_revert → erp_order_cancel (back to
PENDING_APPROVAL).
Re-running is safe because every write looks first (ERP mirror by `custom_crm_order_id`,
ERP customer by `custom_crm_account_id`) or is an upsert (CRM order on `External_Ref`).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from resolvers.errors import InvalidInput
from resolvers.ports import CRM_APPROVED, CRM_CANCELLED, CRM_CREATED, CRM_PENDING, CrmPort, ErpPort
from resolvers.records import CatalogProduct, Item, OrderStatus, StockLevel

from .approval import ApprovalFacts, ApprovalRules, Decision, decide
from .locks import check_current_lease
from .quantities import OrderLimits, check_order_value, check_whole_units
from .reservation import (
    ShortPolicy,
    hold_for_stock,
    reservations_of,
    reserved_by_row,
    short_message,
    shortfalls,
)
from .state import PricedLine, ProcessState, Reservation, StepFailed

T = TypeVar("T")
# Orders that hold credit: approved (reserving) ones, and "Created", which the process writes
# for an order it is approving until the mirror reserves. Held orders hold no credit.
_RESERVING = (OrderStatus.CREATED, OrderStatus.APPROVED)


@dataclass(frozen=True, slots=True)
class StepContext:
    """What steps may use: the two connectors, the rules, the clock."""

    crm: CrmPort
    scm: ErpPort
    rules: ApprovalRules
    clock: Callable[[], datetime]
    delivery_lead_days: int = 7
    limits: OrderLimits = field(default_factory=OrderLimits)
    on_short: ShortPolicy = "release"


Step = Callable[[StepContext, ProcessState], Awaitable[ProcessState]]


async def validate(ctx: StepContext, state: ProcessState) -> ProcessState:
    order = state.input
    accounts = await ctx.crm.get_accounts([order.customer_id])
    customer = accounts.get(order.customer_id)
    if customer is None:
        raise InvalidInput(f"customerId {order.customer_id!r} is not a CRM account")
    skus = sorted({line.sku for line in order.lines})
    products = await ctx.crm.products_by_sku(skus)
    items = await ctx.scm.get_items(skus)
    lines = tuple(
        _price(i, line.sku, line.quantity, products, items) for i, line in enumerate(order.lines)
    )
    uoms = {sku: item.uom for sku, item in items.items()}
    whole = await ctx.scm.whole_number_uoms(sorted({u or "Nos" for u in uoms.values()}))
    check_whole_units(order.lines, uoms, whole)
    currency = _currency(order.currency, [products[line.sku] for line in order.lines])
    total = sum((line.quantity * line.unit_price for line in lines), Decimal(0))
    check_order_value(total, currency, ctx.limits)
    limit = customer.credit_limit.amount if customer.credit_limit else None
    remaining = None if limit is None else limit - await _open_total(ctx, state)
    bins = await ctx.scm.reservable_stock(skus)
    short = tuple(
        sku for sku, qty in _demand(lines).items() if _best(bins.get(sku, []), qty) is None
    )
    return dataclasses.replace(
        state,
        customer_name=customer.name,
        lines=lines,
        currency=currency,
        total=total,
        remaining_credit=remaining,
        short_skus=short,
    )


def _price(
    index: int,
    sku: str,
    quantity: Decimal,
    products: dict[str, CatalogProduct],
    items: dict[str, Item],
) -> PricedLine:
    product = products.get(sku)
    if product is None or not product.active:
        raise InvalidInput(f"lines[{index}].sku {sku!r} is not an active CRM product")
    if product.list_price is None:
        raise InvalidInput(f"lines[{index}].sku {sku!r} has no list price in the CRM")
    item = items.get(sku)
    if item is None or item.disabled:
        raise InvalidInput(f"lines[{index}].sku {sku!r} has no active ERP item")
    return PricedLine(sku, product.id, quantity, product.list_price.amount)


def _currency(requested: str | None, products: Sequence[CatalogProduct]) -> str:
    found = {p.list_price.currency for p in products if p.list_price}
    if len(found) != 1:
        raise InvalidInput(f"lines are priced in several currencies {sorted(found)}")
    currency = found.pop()
    if requested is not None and requested.upper() != currency:
        raise InvalidInput(
            f"currency {requested!r} differs from the list price currency {currency}"
        )
    return currency


async def _open_total(ctx: StepContext, state: ProcessState) -> Decimal:
    orders = await ctx.crm.orders_by_accounts([state.input.customer_id])
    own = state.idempotency_key
    return sum(
        (
            o.total.amount
            for o in orders.get(state.input.customer_id, [])
            if o.status in _RESERVING and o.external_ref != own
        ),
        Decimal(0),
    )


def _demand(lines: Sequence[PricedLine]) -> dict[str, Decimal]:
    demand: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        demand[line.sku] += line.quantity
    return demand


def _best(levels: Sequence[StockLevel], quantity: Decimal) -> str | None:
    """The warehouse with the most available stock, if it can serve `quantity` in full."""
    if not levels:
        return None
    best = max(levels, key=lambda level: level.available)
    return best.warehouse_id if best.available >= quantity else None


def _need(value: T | None, what: str) -> T:
    """A value an earlier step recorded; its absence means a corrupted or foreign journal."""
    if value is None:
        raise StepFailed(f"the journal lacks {what} from an earlier step")
    return value


async def decide_approval(ctx: StepContext, state: ProcessState) -> ProcessState:
    total, currency = _need(state.total, "the total"), _need(state.currency, "the currency")
    facts = ApprovalFacts(total, currency, state.remaining_credit, state.short_skus)
    return dataclasses.replace(state, approval=decide(ctx.rules, facts))


async def crm_upsert(ctx: StepContext, state: ProcessState) -> ProcessState:
    approved = _need(state.approval, "the approval").decision is Decision.APPROVED
    order, _created = await ctx.crm.upsert_order(
        external_ref=state.idempotency_key,
        subject=f"Crossdock order {state.idempotency_key}"[:120],
        account_id=state.input.customer_id,
        # "Approved" is written only once the ERP mirror holds the stock (crm_status).
        status=CRM_CREATED if approved else CRM_PENDING,
        lines=[(line.product_id, line.quantity, line.unit_price) for line in state.lines],
        currency=_need(state.currency, "the currency"),
        notes=state.input.notes,
    )
    return dataclasses.replace(state, crm_order_id=order.id)


async def erp_customer(ctx: StepContext, state: ProcessState) -> ProcessState:
    account_id = state.input.customer_id
    customer = await ctx.scm.find_customer(account_id)
    if customer is None:
        name = state.customer_name or account_id
        customer = await ctx.scm.create_customer(customer_name=name, crm_account_id=account_id)
    return dataclasses.replace(state, erp_customer=customer.name)


async def erp_order_create(ctx: StepContext, state: ProcessState) -> ProcessState:
    crm_id = _need(state.crm_order_id, "the CRM order id")
    existing = (await ctx.scm.erp_orders_by_crm_ids([crm_id])).get(crm_id)
    if existing is not None and existing.docstatus != 2:
        return dataclasses.replace(state, erp_order=existing.name)
    bins = await ctx.scm.reservable_stock(sorted({line.sku for line in state.lines}))
    demand = _demand(state.lines)
    short = [sku for sku, qty in demand.items() if _best(bins.get(sku, []), qty) is None]
    if short:  # stock left since the decision (outside this gateway's lock): hold, reserve nothing
        message = f"no warehouse can reserve in full now: {', '.join(short)}"
        return await hold_for_stock(ctx.crm, ctx.scm, state, message, None, on_short=ctx.on_short)
    picks = {sku: _pick(bins.get(sku, []), sku) for sku in demand}
    order = await ctx.scm.create_sales_order(
        customer=_need(state.erp_customer, "the ERP customer"),
        crm_order_id=crm_id,
        lines=[(ln.sku, ln.quantity, ln.unit_price, picks[ln.sku]) for ln in state.lines],
        delivery_date=(ctx.clock() + timedelta(days=ctx.delivery_lead_days)).date(),
        currency=_need(state.currency, "the currency"),
        reserve_stock=True,
    )
    return dataclasses.replace(state, erp_order=order.name)


def _pick(levels: Sequence[StockLevel], sku: str) -> str:
    if not levels:
        raise StepFailed(f"no warehouse stocks {sku!r}; cannot place the ERP sales order")
    return max(levels, key=lambda level: level.available).warehouse_id


async def erp_order_submit(ctx: StepContext, state: ProcessState) -> ProcessState:
    crm_id = _need(state.crm_order_id, "the CRM order id")
    order = (await ctx.scm.erp_orders_by_crm_ids([crm_id])).get(crm_id)
    if order is None or order.docstatus == 0:
        check_current_lease()
        order = await ctx.scm.submit_sales_order(_need(state.erp_order, "the ERP order"))
    if order.docstatus != 1:
        raise StepFailed(f"ERP sales order {order.name} is {order.status}, not submitted")
    reservations = tuple(
        Reservation(line.sku, line.warehouse, line.quantity, line.reserved) for line in order.lines
    )
    return dataclasses.replace(state, reservations=reservations)


async def erp_reservation_check(ctx: StepContext, state: ProcessState) -> ProcessState:
    """Read the Stock Reservation Entries back; less than ordered holds the order."""
    crm_id = _need(state.crm_order_id, "the CRM order id")
    mirror = (await ctx.scm.erp_orders_by_crm_ids([crm_id])).get(crm_id)
    if mirror is None or mirror.docstatus != 1:
        # Released by an earlier run of this step, or cancelled outside: nothing is reserved.
        message = "the ERP mirror holds no reservation"
        return await hold_for_stock(
            ctx.crm,
            ctx.scm,
            dataclasses.replace(state, reservations=()),
            message,
            None,
            on_short=ctx.on_short,
        )
    entries = await ctx.scm.reservation_entries(mirror.name)
    reservations = reservations_of(mirror, reserved_by_row(entries))
    state = dataclasses.replace(state, reservations=reservations)
    short = shortfalls(reservations)
    if short:
        return await hold_for_stock(
            ctx.crm, ctx.scm, state, short_message(short), mirror, on_short=ctx.on_short
        )
    return state


async def crm_status(ctx: StepContext, state: ProcessState) -> ProcessState:
    """Approve the CRM order, on condition that its mirror is submitted, checked again after."""
    crm_id = _need(state.crm_order_id, "the CRM order id")
    await _require_submitted(ctx, crm_id, "before")
    await ctx.crm.set_order_status(crm_id, CRM_APPROVED)
    await _require_submitted(ctx, crm_id, "after")
    return state


async def _require_submitted(ctx: StepContext, crm_id: str, when: str) -> None:
    if not any(m.docstatus == 1 for m in await ctx.scm.mirrors_of(crm_id)):
        raise StepFailed(
            f"the ERP mirror of CRM order {crm_id} is not submitted {when} the CRM approval"
        )


async def erp_order_cancel(ctx: StepContext, state: ProcessState) -> ProcessState:
    """Cancel every submitted ERP mirror (releasing its reservation, B.8.4) and delete every
    draft: a submit still in flight then finds no document, so it cannot reserve later."""
    if state.crm_order_id is None:
        return state
    await cancel_mirrors(ctx.scm, state.crm_order_id)
    return dataclasses.replace(state, erp_order=None, reservations=())


async def cancel_mirrors(scm: ErpPort, crm_order_id: str) -> list[str]:
    """The compensation of the ERP side of an order: cancel every submitted mirror (which
    releases its reservation) and delete every draft; returns what it did, one line each."""
    done = []
    for mirror in await scm.mirrors_of(crm_order_id):
        if mirror.docstatus == 1:
            await scm.cancel_sales_order(mirror.name)
            done.append(f"ERP sales order {mirror.name} cancelled")
        elif mirror.docstatus == 0:
            await scm.delete_sales_order(mirror.name)
            done.append(f"ERP draft sales order {mirror.name} deleted")
    return done


async def crm_status_revert(ctx: StepContext, state: ProcessState) -> ProcessState:
    """After a failed approval: an Approved CRM order goes back to Pending Approval."""
    crm_id = _need(state.crm_order_id, "the CRM order id")
    current = (await ctx.crm.get_orders([crm_id])).get(crm_id)
    if current is not None and current.status is OrderStatus.APPROVED:
        await ctx.crm.set_order_status(crm_id, CRM_PENDING)
    return state


async def crm_order_cancel(ctx: StepContext, state: ProcessState) -> ProcessState:
    order_id = state.crm_order_id
    if order_id is None:
        # The upsert may have landed although its answer was lost (timeout): look it up.
        found = await ctx.crm.find_order(external_ref=state.idempotency_key)
        if found is None:
            return state
        order_id = found.id
    current = (await ctx.crm.get_orders([order_id])).get(order_id)
    if current is not None and current.status is not OrderStatus.CANCELLED:
        await ctx.crm.set_order_status(order_id, CRM_CANCELLED)
    return dataclasses.replace(state, crm_order_id=order_id)


FORWARD: dict[str, Step] = {
    "validate": validate,
    "decide": decide_approval,
    "crm_upsert": crm_upsert,
    "erp_customer": erp_customer,
    "erp_order_create": erp_order_create,
    "erp_order_submit": erp_order_submit,
    "erp_reservation_check": erp_reservation_check,
    "crm_status": crm_status,
}
UNDO: dict[str, Step] = {
    "erp_order_cancel": erp_order_cancel,
    "crm_order_cancel": crm_order_cancel,
    "crm_status_revert": crm_status_revert,
}
# Undo of a failed approval, back to PENDING_APPROVAL: the CRM first (no Approved CRM order
# without its mirror), then the ERP mirror; the CRM order itself stays.
ROLLBACK = ("crm_status_revert", "erp_order_cancel")
# The forward steps of a held order already done before approveOrder.
PLACEMENT = ("validate", "decide", "crm_upsert", "erp_customer")


def forward_plan(state: ProcessState) -> tuple[str, ...]:
    """The forward steps this process must run, given what has been decided so far."""
    decision = state.approval.decision if state.approval else None
    if decision is None or decision is Decision.REJECTED:
        return ("validate", "decide")
    if decision is Decision.PENDING_APPROVAL:
        return PLACEMENT
    return tuple(FORWARD)


def undo_plan(state: ProcessState) -> tuple[str, ...]:
    return ("erp_order_cancel", "crm_order_cancel") if state.writes_started else ()
