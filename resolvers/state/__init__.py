"""Where the gateway keeps the state every worker and replica must agree on.

One interface (`layer.StateLayer`), two implementations, chosen by `[state]`
(gateway.settings.state):

    embedded (default)   in-process locks and rate-limit buckets, the order journal in SQLite:
                         one process, nothing else to run (`make demo`).
    shared               Redis for what is shared and short-lived: rate-limit and
                         failed-authentication buckets (redis_buckets, one Lua round trip),
                         the order process's locks with expiry and fencing (redis_locks),
                         the change bus to every replica's subscriptions
                         (`change_bus()`: resolvers.sync.redis_bus, a Redis Stream);
                         PostgreSQL for what must not be lost: the order journal with
                         versioned migrations and per-process leases (pg_journal).

    state = open_state(settings.state)          # resolvers.state.layer
    journal = state.open_journal(settings.saga)
    service = OrderProcessService(..., journal, ..., locks=state.locks)

A store that cannot be reached is a readiness failure (`probe`) and a STATE_UNAVAILABLE
error on the requests that need it, never a silent fallback to per-process state.
Implementations are imported lazily (resolvers.state.layer), so importing this package
costs neither driver.
"""

from __future__ import annotations

from .errors import LeaseLost, LockBusy, ProcessBusy, StateUnavailable

__all__ = ["LeaseLost", "LockBusy", "ProcessBusy", "StateUnavailable"]
