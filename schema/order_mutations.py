"""placeOrder, approveOrder, cancelOrder and orderProcess: the order saga on the graph.

The resolvers are thin: they turn GraphQL input into `OrderInput`, call the service found at
`info.context.order_process`, and turn its outcome into types. Scopes (orders:write,
orders:approve) are enforced by the access-control layer before these run.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from resolvers.errors import CrossdockError
from resolvers.saga import approval as saga_approval
from resolvers.saga import service as saga
from resolvers.saga.disclosure import AUDITED_FIELD, disclose
from resolvers.saga.journal import StepEntry
from resolvers.saga.state import LineInput, OrderInput
from resolvers.saga.state import ProcessError as ProcessErrorRecord
from resolvers.saga.state import ProcessStatus as ProcessStatusEnum
from resolvers.saga.state import Reservation as ReservationRecord
from schema.context import Info
from schema.insights import INSIGHTS_DESCRIPTION, OrderProcessInsights, order_insights
from schema.orders import Order
from schema.process_messages import shown_outcome, shown_view

# Registered in place: fields annotate the saga's own enums, so values need no mapping.
strawberry.enum(
    saga_approval.Decision,
    name="ApprovalDecision",
    description="What the approval rules decided for an order.",
)
strawberry.enum(
    ProcessStatusEnum,
    name="OrderProcessStatus",
    description="Where an order process stands across the CRM and the ERP.",
)


APPROVE_SCOPE = "orders:approve"


class OrderProcessDisabled(CrossdockError):
    """The gateway runs without an order journal, so order mutations are off."""

    code = "NOT_CONFIGURED"


@strawberry.input(description="One ordered SKU; its price comes from the CRM list price.")
class OrderLineInput:
    sku: str = strawberry.field(description="The product's SKU.")
    quantity: Decimal = strawberry.field(description='Quantity, > 0, as a decimal ("3").')


@strawberry.input(description="An order to place for a CRM customer.")
class PlaceOrderInput:
    customer_id: strawberry.ID = strawberry.field(description="The CRM account id.")
    lines: list[OrderLineInput] = strawberry.field(description="What to order.")
    notes: str | None = strawberry.field(default=None, description="Free text for the order.")
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217; must match the list prices when given."
    )

    def to_record(self) -> OrderInput:
        lines = tuple(LineInput(line.sku, line.quantity) for line in self.lines)
        return OrderInput(str(self.customer_id), lines, self.notes, self.currency)


@strawberry.type(description="One approval rule and how the order fared against it.")
class ApprovalReason:
    rule: str
    message: str = strawberry.field(
        description="Credit amounts need finance:read and stock details stock:read; without "
        "them, the rule's verdict without figures."
    )
    passed: bool


@strawberry.type(description="The approval decision with every rule that was checked.")
class Approval:
    decision: saga_approval.Decision
    reasons: list[ApprovalReason]

    @classmethod
    def of(cls, value: saga_approval.Approval | None, info: Info) -> Approval | None:
        """The approval as `info`'s caller may read it (figures only with their scopes)."""
        if value is None:
            return None
        scopes = info.context.principal.scopes
        reasons = []
        for r in value.reasons:
            shown = disclose(r, scopes)
            if shown.audited:
                info.context.disclosed.add(AUDITED_FIELD)
            reasons.append(ApprovalReason(rule=r.rule, message=shown.message, passed=r.passed))
        return cls(decision=value.decision, reasons=reasons)


@strawberry.type(description="Stock held for one order line in an ERP warehouse.")
class Reservation:
    sku: str
    warehouse: str | None
    quantity: float
    reserved: float = strawberry.field(description="Quantity actually reserved in the ERP.")

    @classmethod
    def of(cls, r: ReservationRecord) -> Reservation:
        return cls(
            sku=r.sku, warehouse=r.warehouse, quantity=float(r.quantity), reserved=float(r.reserved)
        )


@strawberry.type(description="Why a process failed: a stable code and the step it failed in.")
class ProcessError:
    code: str
    step: str
    message: str

    @classmethod
    def of(cls, e: ProcessErrorRecord | None) -> ProcessError | None:
        return None if e is None else cls(code=e.code, step=e.step, message=e.message)


@strawberry.type(description="What placeOrder, approveOrder and cancelOrder answer.")
class PlaceOrderResult:
    order: Order | None = strawberry.field(description="The CRM order, with its canonical status.")
    process_id: strawberry.ID
    status: ProcessStatusEnum
    approval: Approval | None
    reservations: list[Reservation]
    error: ProcessError | None

    @classmethod
    def of(cls, o: saga.PlaceOrderOutcome, info: Info) -> PlaceOrderResult:
        return cls(
            order=None if o.order is None else Order.of(o.order),
            process_id=strawberry.ID(o.process_id),
            status=o.status,
            approval=Approval.of(o.approval, info),
            reservations=[Reservation.of(r) for r in o.reservations],
            error=ProcessError.of(o.error),
        )


@strawberry.type(description="One journaled step event of an order process.")
class OrderProcessStep:
    step: str
    state: str = strawberry.field(description="started, done or failed.")
    at: datetime
    message: str | None

    @classmethod
    def of(cls, e: StepEntry) -> OrderProcessStep:
        return cls(step=e.step, state=e.phase, at=e.at, message=e.detail)


@strawberry.type(description="An order process as its journal records it.")
class OrderProcess:
    id: strawberry.ID
    status: ProcessStatusEnum
    created_at: datetime
    updated_at: datetime
    order_id: strawberry.ID | None
    erp_order: str | None
    approval: Approval | None
    error: ProcessError | None
    attention: ProcessError | None = strawberry.field(
        description="Why the undo is stuck, if it is."
    )
    steps: list[OrderProcessStep]

    @classmethod
    def of(cls, v: saga.ProcessView, info: Info) -> OrderProcess:
        return cls(
            id=strawberry.ID(v.id),
            status=v.status,
            created_at=v.created_at,
            updated_at=v.updated_at,
            order_id=strawberry.ID(v.order_id) if v.order_id else None,
            erp_order=v.erp_order,
            approval=Approval.of(v.approval, info),
            error=ProcessError.of(v.error),
            attention=ProcessError.of(v.attention),
            steps=[OrderProcessStep.of(s) for s in v.steps],
        )


def order_service(info: Info) -> saga.OrderProcessService:
    service = info.context.order_process
    if not isinstance(service, saga.OrderProcessService):
        raise OrderProcessDisabled("order processing is not configured on this gateway")
    return service


async def place_order(info: Info, input: PlaceOrderInput, idempotency_key: str) -> PlaceOrderResult:
    subject = info.context.principal.subject
    outcome = await order_service(info).place_order(
        input.to_record(), idempotency_key, subject=subject
    )
    return PlaceOrderResult.of(shown_outcome(info, outcome), info)


async def approve_order(info: Info, id: strawberry.ID) -> PlaceOrderResult:
    approver = info.context.principal.subject
    outcome = await order_service(info).approve(str(id), approver=approver)
    return PlaceOrderResult.of(shown_outcome(info, outcome), info)


async def cancel_order(info: Info, id: strawberry.ID) -> PlaceOrderResult:
    return PlaceOrderResult.of(shown_outcome(info, await order_service(info).cancel(str(id))), info)


@strawberry.type(description="Writes that run the order process across the CRM and the ERP.")
class OrderMutations:
    place_order: PlaceOrderResult = strawberry.mutation(
        resolver=place_order,
        description="Place an order; a retry with the same key returns the same result.",
    )
    approve_order: PlaceOrderResult = strawberry.mutation(
        resolver=approve_order,
        description="Approve an order waiting for approval (CRM order id or process id).",
    )
    cancel_order: PlaceOrderResult = strawberry.mutation(
        resolver=cancel_order,
        description="Cancel a pending or approved order, releasing its reserved stock.",
    )


async def resolve_order_process(info: Info, id: strawberry.ID) -> OrderProcess | None:
    view = await order_service(info).get_process(str(id))
    if view is None or not _may_read(info, view):
        return None  # another subject's process looks exactly like one that does not exist
    return OrderProcess.of(shown_view(info, view), info)


def _may_read(info: Info, view: saga.ProcessView) -> bool:
    principal = info.context.principal
    if APPROVE_SCOPE in principal.scopes:
        return True
    return view.placed_by is not None and view.placed_by == principal.subject


order_process_field = strawberry.field(
    resolver=resolve_order_process,
    description="An order process (by process id or CRM order id) with each step's state and "
    "time: for the subject that placed the order and for holders of orders:approve.",
)


def resolve_order_process_insights(
    info: Info, since: datetime, until: datetime | None = None
) -> OrderProcessInsights:
    return order_insights(order_service(info), since, until)


insights_field = strawberry.field(
    resolver=resolve_order_process_insights, description=INSIGHTS_DESCRIPTION
)


@strawberry.type
class OrderProcessQuery:
    """Query mixin for the root: `orderProcess(id: ID!): OrderProcess`."""

    order_process: OrderProcess | None = order_process_field
    order_process_insights: OrderProcessInsights | None = insights_field
