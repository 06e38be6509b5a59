"""What callers read of an order process's failures: backend errors by code, not by quote.

The journal keeps each failure as it happened, including a backend's own message (paths,
its validation text). placeOrder, approveOrder, cancelOrder and orderProcess show a
backend-coded failure with the same neutral message as any other backend error
(`resolvers.errors.neutral_message`), logged with the request id, unless the caller's
context says `backend_details` (`[policy] backend_detail_roles`).

    outcome = shown_outcome(info, await service.place_order(...))
"""

from __future__ import annotations

import dataclasses
import logging

from resolvers.errors import BACKEND_CODES, neutral_message
from resolvers.saga.journal import StepEntry
from resolvers.saga.service import PlaceOrderOutcome, ProcessView
from resolvers.saga.state import ProcessError
from schema.context import Info

logger = logging.getLogger("crossdock.errors")


def _error(info: Info, process_id: str, e: ProcessError | None) -> ProcessError | None:
    if e is None or e.code not in BACKEND_CODES or info.context.backend_details:
        return e
    request_id = info.context.request_id
    logger.warning(
        "order process %s: %s in step %s (request %s): %s",
        process_id,
        e.code,
        e.step,
        request_id,
        e.message,
    )
    return dataclasses.replace(e, message=neutral_message(e.code, None, request_id))


def _step(info: Info, entry: StepEntry) -> StepEntry:
    code, colon, _ = (entry.detail or "").partition(": ")
    if not colon or code not in BACKEND_CODES or info.context.backend_details:
        return entry
    shown = neutral_message(code, None, info.context.request_id)
    return dataclasses.replace(entry, detail=f"{code}: {shown}")


def shown_outcome(info: Info, outcome: PlaceOrderOutcome) -> PlaceOrderOutcome:
    """The outcome with a backend failure told neutrally (see the module doc)."""
    return dataclasses.replace(outcome, error=_error(info, outcome.process_id, outcome.error))


def shown_view(info: Info, view: ProcessView) -> ProcessView:
    """The process with backend failures and failed steps told neutrally."""
    return dataclasses.replace(
        view,
        error=_error(info, view.id, view.error),
        attention=_error(info, view.id, view.attention),
        steps=tuple(_step(info, s) for s in view.steps),
    )
