"""Who is told the size of each loader batch: one hook for every loader, set per operation.

    token = batch_observer.set(lambda loader, keys: ...)   # the metrics extension does this
    ...                                                     # the operation runs its loaders
    batch_observer.reset(token)

`resolvers.loaders` calls `report_batch(fetch, keys)` once per batch, before the backend call;
the loader is named by its batch function (`get_accounts`, `shipments_by_order`, …), so the
names are the code's, never a client's. A context variable rather than an argument: the
loaders stay as they are, and two apps in one process (tests) never count into each other.
Nothing is done when no observer is set (one `ContextVar.get` per batch).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import partial

BatchObserver = Callable[[str, int], None]  # (loader name, distinct keys in the batch)
batch_observer: ContextVar[BatchObserver | None] = ContextVar(
    "crossdock_batch_observer", default=None
)


def loader_name(fetch: object) -> str:
    """The name of a loader's batch function (a partial's function)."""
    while isinstance(fetch, partial):
        fetch = fetch.func
    name = getattr(fetch, "__name__", None)
    return name if isinstance(name, str) else "unknown"


def report_batch(fetch: object, keys: int) -> None:
    """Tell the operation's observer, if any, that `fetch` is called with `keys` keys."""
    observe = batch_observer.get()
    if observe is not None:
        observe(loader_name(fetch), keys)
