"""What a sync rule is: given a change and its record as read now, write the other system.

A rule converges: it reads the target, compares it with what the source says it should be,
and writes only what differs. So a repeated change, a replay or a retry after a crash writes
nothing twice, and the rule's own write coming back as a change finds nothing to do.

    class MyRule:
        name = "my_rule"
        def applies(self, change: Change) -> bool: ...
        async def apply(self, ctx: RuleContext, change: Change, current: Snapshot) -> Applied: ...
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from resolvers.ports import CrmPort, ErpPort
from resolvers.saga import OrderProcessService

from ..change import Change, Entity, System
from ..inbox import WriteMark

Key = tuple[System, Entity, str]
Recall = Callable[[Key], Awaitable[WriteMark | None]]


async def _no_memory(key: Key) -> WriteMark | None:
    return None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A record as its system holds it now (None: it does not exist), and its version."""

    record: Any
    version: datetime | None


@dataclass(frozen=True, slots=True)
class Write:
    """One record a rule wrote, its version after the write when the system said it, and a
    fingerprint of the values written (to recognise the write when it comes back)."""

    system: System
    entity: Entity
    record_id: str
    what: str
    version: datetime | None = None
    fingerprint: str = ""

    @property
    def key(self) -> Key:
        return (self.system, self.entity, self.record_id)


@dataclass(frozen=True, slots=True)
class Applied:
    """What one rule did: its writes, a note for the operator, and fields for subscribers."""

    rule: str
    writes: tuple[Write, ...] = ()
    note: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)


class Locks:
    """One asyncio lock per name: two changes that write the same target take turns."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, name: str) -> asyncio.Lock:
        lock = self._locks.get(name)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[name] = lock
        return lock


@dataclass(frozen=True)
class RuleContext:
    """What rules may use: both ports, the order process (rules 4 and 5), target locks, and
    `recall(key)`: the last write a rule made to a record (from the inbox)."""

    crm: CrmPort
    scm: ErpPort
    order_process: OrderProcessService | None = None
    lock: Locks = field(default_factory=Locks)
    recall: Recall = _no_memory


class Rule(Protocol):
    @property
    def name(self) -> str: ...

    def applies(self, change: Change) -> bool: ...

    async def apply(self, ctx: RuleContext, change: Change, current: Snapshot) -> Applied: ...


def fingerprint(values: Mapping[str, Any]) -> str:
    """A short digest of written values: equal values, equal fingerprint."""
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
