"""Errors of the shared state: a store that cannot be reached, a lock or lease not had."""

from __future__ import annotations

from resolvers.errors import CrossdockError


class StateUnavailable(CrossdockError):
    """PostgreSQL or Redis cannot be reached: the request fails, nothing falls back to
    per-process state. Retryable once the store is back (readiness says which)."""

    code = "STATE_UNAVAILABLE"


class LockBusy(CrossdockError):
    """A lock stayed held by another request for longer than `[state] lock_wait_s`."""

    code = "BUSY"


class ProcessBusy(CrossdockError):
    """Another replica holds the lease of this order process; retry shortly."""

    code = "PROCESS_BUSY"


class LeaseLost(CrossdockError):
    """This replica's lease on an order process expired and another took it over."""

    code = "LEASE_LOST"
