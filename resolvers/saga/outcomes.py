"""Writes whose outcome is unknown, and how the order process finds out what they did.

A write that timed out, lost its connection or its reply, or got a 5xx (a proxy's 502/504 may
have forwarded it) may have been applied, or may still be: a request held in a queue lands
later. Only a refusal by the backend itself (4xx, validation, auth) says it did not and will
not happen. The process never takes "unknown" for "did not happen": it reads the target back
(the CRM order by `External_Ref`, the mirror by `custom_crm_order_id` and `docstatus`) within
a bounded wait (`Patience.settle_s`), compensates only what it knows happened, and fences what
may still land (a draft mirror is deleted, so a late submit finds nothing to submit).

    if maybe_applied(exc):
        seen = await settle(ctx, state, "crm_status", patience)   # True, False or None
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from resolvers.errors import (
    BackendAuthError,
    BackendError,
    BackendRejected,
    InvalidInput,
    NotFound,
)
from resolvers.records import OrderStatus

from .state import ProcessState, StepFailed
from .steps import StepContext

# extra[...] keys the engine keeps in the (sealed) process state
SUSPECT = "suspect"  # "1": some write of this process had an unknown outcome
RESOLVE = "resolve"  # "forward": NEEDS_ATTENTION that the resolver finishes forward
PHASE = "phase"  # "approval": approveOrder is running; a failure returns to PENDING_APPROVAL
APPROVAL = "approval"
FORWARD = "forward"


@dataclass(frozen=True, slots=True)
class Patience:
    """How long the process waits to learn a write's outcome, and how long it keeps watching.

    settle_s: bounded wait for an unknown write to show up when read back (polled every
    poll_s). watch_s: how long after it ended a process with an unknown write is re-read by the
    resolver (a late write found then reopens it). undo_attempts: tries per compensation step
    (each reads first, so a try after a lost race sees what the other write did).
    """

    settle_s: float = 2.0
    poll_s: float = 0.1
    watch_s: float = 900.0
    undo_attempts: int = 2


def maybe_applied(exc: BaseException) -> bool:
    """Whether a failed write may have happened (or may still): all but the backend's refusals."""
    refused = (BackendRejected, BackendAuthError, InvalidInput, StepFailed, NotFound)
    return not isinstance(exc, refused)


async def crm_approved(ctx: StepContext, state: ProcessState) -> bool:
    """The CRM order is Approved and its mirror submitted: crm_status has landed."""
    crm_id = state.crm_order_id
    if crm_id is None:
        return False
    order = (await ctx.crm.get_orders([crm_id])).get(crm_id)
    if order is None or order.status is not OrderStatus.APPROVED:
        return False
    return any(m.docstatus == 1 for m in await ctx.scm.mirrors_of(crm_id))


_PROBES: dict[str, Callable[[StepContext, ProcessState], Awaitable[bool]]] = {
    "crm_status": crm_approved,
}


def has_probe(step: str) -> bool:
    return step in _PROBES


async def settle(
    ctx: StepContext, state: ProcessState, step: str, patience: Patience
) -> bool | None:
    """Read the target of `step` back until its write shows or `settle_s` passes.

    True: it landed. False: not seen within the wait (it may still land). None: the target
    could not be read, so nothing is known.
    """
    probe = _PROBES[step]
    seen: bool | None = None
    try:
        async with asyncio.timeout(patience.settle_s):
            while True:
                try:
                    seen = await probe(ctx, state)
                except BackendError:
                    seen = None
                if seen:
                    return True
                await asyncio.sleep(patience.poll_s)
    except TimeoutError:
        return seen
