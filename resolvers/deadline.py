"""The deadline of the operation a backend call serves, carried in a context variable.

    with operation_deadline(30.0):      # the gateway, around one GraphQL query operation
        await scm.list_bins(skus)       # every attempt inside ends by then: BACKEND_TIMEOUT

httpx's read timeout bounds the gap between two reads, not a whole response: a backend that
drips a byte a second never trips it. So each backend attempt runs under an asyncio timeout
(`Timeouts.attempt`, per backend), shortened to what is left of the operation's deadline set
here. A context variable reaches every task the operation starts (loaders, batched fields)
without threading a parameter through every connector method; each operation sets its own,
so an export's next page, started from inside the page before, gets a fresh one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# (monotonic time the operation must end by, its length in seconds for messages)
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("crossdock_deadline", default=None)


@contextmanager
def operation_deadline(seconds: float | None) -> Iterator[None]:
    """Backend calls made inside the block end within `seconds` from now (None: no bound)."""
    token = _DEADLINE.set(None if seconds is None else (time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def time_left() -> tuple[float, float] | None:
    """(seconds left, the operation's whole deadline), or None outside any deadline."""
    current = _DEADLINE.get()
    if current is None:
        return None
    return current[0] - time.monotonic(), current[1]
