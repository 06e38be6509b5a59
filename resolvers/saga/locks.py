"""Stock locks: one checkout of a SKU at a time, from the availability read to the read-back.

The order process takes the lock of every SKU of an order (in sorted order, so two orders
sharing SKUs cannot deadlock) before it reads availability, and releases it after the ERP's
Stock Reservation Entries were read back. Within one lock holder, deciding "in stock" and
reserving are one step with respect to every other checkout of the same SKUs.

`LockProvider` is the seam for more than one gateway instance. `LocalLocks` (asyncio, this
process only) is what runs today. A shared provider (e.g. Redis `SET key token NX PX ttl`)
must give each lease a fencing token that grows with every grant and an expiry (`ttl_s`), and
`Lease.check()` must fail once the lease has expired or been granted to someone else; the
process calls it right before the submit that reserves, and the read-back after the submit
catches what a lease lost during the submit let through.

    locks = LocalLocks()
    async with locks.hold(["stock:SKU-1", "stock:SKU-2"], ttl_s=60) as lease:
        ...  # read availability, submit, read reservations back
        lease.check()  # raises LockLost when the lease is no longer ours
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from resolvers.errors import CrossdockError

DEFAULT_TTL_S = 60.0


class LockLost(CrossdockError):
    """A stock lease expired or was taken over before the reservation was made."""

    code = "LOCK_LOST"


class Lease(Protocol):
    @property
    def fencing_token(self) -> int: ...

    def check(self) -> None:
        """Raise LockLost if this lease no longer protects its keys."""


class LockProvider(Protocol):
    def hold(
        self, names: Iterable[str], *, ttl_s: float = DEFAULT_TTL_S
    ) -> AbstractAsyncContextManager[Lease]: ...


@dataclass(frozen=True, slots=True)
class LocalLease:
    fencing_token: int
    names: tuple[str, ...]

    def check(self) -> None:
        """In one process a lease is held until released: nothing can take it over."""


class LocalLocks:
    """asyncio locks per name, in this process only (a second instance needs a shared one)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._tokens = itertools.count(1)

    @asynccontextmanager
    async def hold(
        self, names: Iterable[str], *, ttl_s: float = DEFAULT_TTL_S
    ) -> AsyncIterator[Lease]:
        ordered = tuple(sorted(set(names)))
        locks = [self._lock(name) for name in ordered]  # strong refs while held
        async with AsyncExitStack() as stack:
            for lock in locks:
                await stack.enter_async_context(lock)
            yield LocalLease(next(self._tokens), ordered)

    def _lock(self, name: str) -> asyncio.Lock:
        lock = self._locks.get(name)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[name] = lock
        return lock


# The lease the running process holds, for the step that reserves to check it.
CURRENT_LEASE: ContextVar[Lease | None] = ContextVar("crossdock_stock_lease", default=None)


def check_current_lease() -> None:
    lease = CURRENT_LEASE.get()
    if lease is not None:
        lease.check()


@asynccontextmanager
async def hold_stock(locks: LockProvider, skus: Iterable[str]) -> AsyncIterator[Lease]:
    """Hold the stock locks of `skus`; the steps run inside see the lease (check_current_lease)."""
    async with locks.hold({f"stock:{sku}" for sku in skus}) as lease:
        token = CURRENT_LEASE.set(lease)
        try:
            yield lease
        finally:
            CURRENT_LEASE.reset(token)
