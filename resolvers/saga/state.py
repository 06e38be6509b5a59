"""The state of one order process, as the journal stores it (sealed) and the engine moves it."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from resolvers.errors import CrossdockError

from .approval import Approval, Decision, Reason


class ProcessStatus(enum.Enum):
    RUNNING = "RUNNING"  # forward steps under way (placing, or approving)
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"  # the rules refused it; nothing was written
    COMPENSATING = "COMPENSATING"  # undoing, after a failure or a cancel
    FAILED = "FAILED"  # a step failed and everything it did was undone
    CANCELLED = "CANCELLED"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"  # the undo itself failed: an operator must look


UNFINISHED = (ProcessStatus.RUNNING, ProcessStatus.COMPENSATING, ProcessStatus.NEEDS_ATTENTION)


class IdempotencyConflict(CrossdockError):
    """The idempotency key was used before with a different input."""

    code = "IDEMPOTENCY_CONFLICT"


class InvalidTransition(CrossdockError):
    """approveOrder/cancelOrder on a process that is not in a state that allows it."""

    code = "INVALID_STATE"


class StepFailed(CrossdockError):
    """A step could not do its work for a business reason (e.g. no warehouse stocks a SKU)."""

    code = "STEP_FAILED"


@dataclass(frozen=True, slots=True)
class LineInput:
    sku: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class OrderInput:
    """What the caller asked for; prices are never part of it."""

    customer_id: str
    lines: tuple[LineInput, ...]
    notes: str | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class PricedLine:
    sku: str
    product_id: str
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Reservation:
    sku: str
    warehouse: str | None
    quantity: Decimal
    reserved: Decimal


@dataclass(frozen=True, slots=True)
class ProcessError:
    code: str
    step: str
    message: str


@dataclass(frozen=True, slots=True)
class ProcessState:
    """Everything needed to resume or undo a process after a restart."""

    id: str
    idempotency_key: str
    fingerprint: str
    input: OrderInput
    created_at: datetime
    updated_at: datetime
    status: ProcessStatus = ProcessStatus.RUNNING
    done: tuple[str, ...] = ()  # forward steps completed, in order
    undone: tuple[str, ...] = ()  # compensation steps completed
    customer_name: str | None = None
    lines: tuple[PricedLine, ...] = ()
    currency: str | None = None
    total: Decimal | None = None
    remaining_credit: Decimal | None = None
    short_skus: tuple[str, ...] = ()
    approval: Approval | None = None
    writes_started: bool = False
    crm_order_id: str | None = None
    erp_customer: str | None = None
    erp_order: str | None = None
    reservations: tuple[Reservation, ...] = ()
    cancel_requested: bool = False
    error: ProcessError | None = None
    attention: ProcessError | None = None
    extra: dict[str, str] = field(default_factory=dict)
    placed_by: str | None = None  # the subject whose token placed the order


def dump_state(state: ProcessState) -> bytes:
    return json.dumps(_encode(state), separators=(",", ":")).encode()


def load_state(raw: bytes) -> ProcessState:
    data: dict[str, Any] = json.loads(raw)
    return ProcessState(
        id=data["id"],
        idempotency_key=data["idempotency_key"],
        fingerprint=data["fingerprint"],
        input=_input(data["input"]),
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        status=ProcessStatus(data["status"]),
        done=tuple(data["done"]),
        undone=tuple(data["undone"]),
        customer_name=data["customer_name"],
        lines=tuple(PricedLine(**_decimals(x, "quantity", "unit_price")) for x in data["lines"]),
        currency=data["currency"],
        total=_dec(data["total"]),
        remaining_credit=_dec(data["remaining_credit"]),
        short_skus=tuple(data["short_skus"]),
        approval=_approval(data["approval"]),
        writes_started=data["writes_started"],
        crm_order_id=data["crm_order_id"],
        erp_customer=data["erp_customer"],
        erp_order=data["erp_order"],
        reservations=tuple(
            Reservation(**_decimals(x, "quantity", "reserved")) for x in data["reservations"]
        ),
        cancel_requested=data["cancel_requested"],
        error=ProcessError(**data["error"]) if data["error"] else None,
        attention=ProcessError(**data["attention"]) if data["attention"] else None,
        extra=dict(data["extra"]),
        placed_by=data.get("placed_by"),
    )


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {name: _encode(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def _dec(raw: str | None) -> Decimal | None:
    return None if raw is None else Decimal(raw)


def _decimals(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: Decimal(v) if k in names else v for k, v in data.items()}


def _input(data: dict[str, Any]) -> OrderInput:
    lines = tuple(LineInput(x["sku"], Decimal(x["quantity"])) for x in data["lines"])
    return OrderInput(data["customer_id"], lines, data["notes"], data["currency"])


def _approval(data: dict[str, Any] | None) -> Approval | None:
    if data is None:
        return None
    reasons = tuple(Reason(**r) for r in data["reasons"])
    return Approval(Decision(data["decision"]), reasons)
