"""The sync inbox in the graph: `Query.syncStatus` (scope `sync:read`) and
`Mutation.retrySyncChange(id)` (scope `sync:write`).

Lag, pending and failed changes per source system, the failures with their reasons, and the
catch-up poll's watermarks, read from the gateway's inbox (`app.state.sync`). A failed change
(retrying or dead) is put back to be applied now by its id, as `crossdock sync retry ID` does,
and the processor is woken. A gateway without sync (`[sync] enabled = false`) answers SYNC_OFF.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from resolvers.errors import CrossdockError, InvalidInput
from resolvers.sync.inbox import FailedItem, InboxStatus, SourceStatus
from schema.context import Info


class SyncOff(CrossdockError):
    """The gateway runs without sync: there is no inbox to report on."""

    code = "SYNC_OFF"


@strawberry.enum(description="Where a failed change stands.")
class SyncFailureState(Enum):
    RETRY = "retry"
    DEAD = "dead"


@strawberry.type(description="One source system's changes in the inbox.")
class SyncSource:
    system: str = strawberry.field(description='"crm" or "erp".')
    pending: int = strawberry.field(description="Changes waiting or being applied.")
    retrying: int = strawberry.field(description="Failed changes waiting for their retry.")
    dead: int = strawberry.field(description="Changes parked after their last attempt.")
    done: int = strawberry.field(description="Changes applied (kept in the inbox).")
    lag_seconds: float = strawberry.field(
        description="Age of the oldest unfinished change; 0 when nothing waits."
    )
    last_received_at: datetime | None = strawberry.field(description="Newest change received.")
    last_done_at: datetime | None = strawberry.field(description="Newest change applied.")

    @classmethod
    def of(cls, s: SourceStatus) -> SyncSource:
        return cls(
            system=s.system,
            pending=s.pending,
            retrying=s.retrying,
            dead=s.dead,
            done=s.done,
            lag_seconds=round(s.lag_s, 3),
            last_received_at=s.last_received_at,
            last_done_at=s.last_done_at,
        )


@strawberry.type(description="A change whose sync rule failed.")
class SyncFailure:
    id: strawberry.ID = strawberry.field(
        description="Give it to `retrySyncChange` or `crossdock sync retry`."
    )
    key: str = strawberry.field(description='The record: "system:entity:id".')
    version: datetime | None = strawberry.field(description="The record's version, if known.")
    state: SyncFailureState = strawberry.field(description="Waiting for a retry, or parked.")
    attempts: int = strawberry.field(description="Attempts made.")
    reason: str = strawberry.field(description="The last error: what failed, where.")
    received_at: datetime = strawberry.field(description="When the change arrived.")
    next_attempt_at: datetime | None = strawberry.field(description="When it is tried again.")

    @classmethod
    def of(cls, f: FailedItem) -> SyncFailure:
        return cls(
            id=strawberry.ID(str(f.id)),
            key=f.key,
            version=f.version,
            state=SyncFailureState(f.state),
            attempts=f.attempts,
            reason=f.reason,
            received_at=f.received_at,
            next_attempt_at=f.next_at,
        )


@strawberry.type(description="How far the catch-up poll of one module has read.")
class SyncWatermark:
    source: str = strawberry.field(description='The module or doctype, e.g. "crm:Accounts".')
    value: str = strawberry.field(description="The last modification time read.")


@strawberry.type(description="The sync inbox: lag, pending and failed changes, watermarks.")
class SyncStatus:
    sources: list[SyncSource] = strawberry.field(description="Per source system.")
    failed: list[SyncFailure] = strawberry.field(description="Failed changes, oldest first.")
    watermarks: list[SyncWatermark] = strawberry.field(description="The catch-up watermarks.")

    @classmethod
    def of(cls, status: InboxStatus) -> SyncStatus:
        return cls(
            sources=[SyncSource.of(s) for s in status.sources],
            failed=[SyncFailure.of(f) for f in status.failed],
            watermarks=[SyncWatermark(source=k, value=v) for k, v in status.watermarks.items()],
        )


def _runtime(info: Info) -> Any:
    request = info.context.request
    runtime = getattr(request.app.state, "sync", None) if request is not None else None
    if runtime is None:
        raise SyncOff("Sync is off on this gateway ([sync] enabled = false).")
    return runtime


async def resolve_sync_status(info: Info, failed_limit: int = 50) -> SyncStatus:
    limit = max(1, min(failed_limit, 500))
    return SyncStatus.of(await _runtime(info).inbox.status(failed_limit=limit))


sync_status_field = strawberry.field(
    resolver=resolve_sync_status,
    description=(
        "The sync inbox: per source system the lag and the pending, retrying and dead changes; "
        "the failed changes with their reasons (at most `failedLimit`, 1..500); watermarks."
    ),
)


@strawberry.type(description="What retrySyncChange did.")
class SyncRetry:
    id: strawberry.ID = strawberry.field(description="The failed change asked for.")
    retried: bool = strawberry.field(description="True when it was put back to be applied now.")
    message: str = strawberry.field(description="What happened, or why nothing did.")


def _change_id(id: strawberry.ID) -> int:
    try:
        return int(str(id))
    except ValueError:
        raise InvalidInput(
            f"retrySyncChange id {str(id)[:40]!r} is not a change id; "
            "take one from syncStatus.failed.id",
            argument="id",
        ) from None


async def retry_sync_change(info: Info, id: strawberry.ID) -> SyncRetry:
    item = _change_id(id)
    if await _runtime(info).retry(item):
        return SyncRetry(id=id, retried=True, message=f"Change {item} is back to be applied now.")
    return SyncRetry(
        id=id,
        retried=False,
        message=f"No failed change {item}: it was applied or retried meanwhile, or never "
        "existed. Read syncStatus.failed for the current ones.",
    )


@strawberry.type
class SyncMutations:
    """Mutation mixin: `retrySyncChange(id)`."""

    retry_sync_change: SyncRetry = strawberry.mutation(
        resolver=retry_sync_change,
        description="Apply a failed sync change (retrying or dead) again now, by its id in "
        "syncStatus.failed; the processor is woken. Scope sync:write.",
    )
