"""Sync in the gateway: the inbox and its processor built from `[sync]` (gateway.settings.sync).

    sync = open_sync(settings.sync, crm, scm, order_process, bus, state)   # None when disabled
    await sync.put(change)        # what the /hooks receivers and the catch-up poll call

`app.state.sync` holds it: `Query.syncStatus` and the receivers find it there.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from opentelemetry.trace import Tracer

from gateway.settings.section import SettingsError
from gateway.settings.sync import SyncSettings
from resolvers.ports import CrmPort, ErpPort
from resolvers.saga import OrderProcessService
from resolvers.state.layer import StateLayer
from resolvers.sync import ChangeBus
from resolvers.sync.inbox import SqliteInbox
from resolvers.sync.processor import Processor
from resolvers.sync.rules import RuleContext, build_rules
from resolvers.sync.runtime import SyncRuntime


def open_inbox(settings: SyncSettings) -> SqliteInbox:
    """The inbox file (its directory created); a SettingsError naming the key if it fails."""
    path = Path(settings.inbox_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteInbox(path, lease_s=settings.lease_s, backoff=settings.retry)
    except (OSError, sqlite3.Error) as exc:
        raise SettingsError(
            f"sync.inbox_path {path} cannot be opened ({exc}); set CROSSDOCK_SYNC_INBOX_PATH "
            "or [sync] inbox_path to a writable file"
        ) from None


def open_sync(
    settings: SyncSettings,
    crm: CrmPort,
    scm: ErpPort,
    order_process: OrderProcessService | None,
    bus: ChangeBus | None,
    state: StateLayer | None = None,
    tracer: Tracer | None = None,
) -> SyncRuntime | None:
    """The runtime `[sync]` asks for (None when off). Its inbox is the shared state's
    (PostgreSQL, every replica) when `[state]` is shared, else the file `inbox_path`."""
    if not settings.enabled:
        return None
    shared = (
        None
        if state is None
        else state.shared_inbox(lease_s=settings.lease_s, backoff=settings.retry)
    )
    inbox = shared if shared is not None else open_inbox(settings)
    ctx = RuleContext(crm, scm, order_process)
    processor = Processor(
        inbox,
        build_rules(settings.rules),
        ctx,
        bus=bus,
        batch=settings.batch,
        idle_s=settings.idle_s,
        tracer=tracer,
    )
    return SyncRuntime(inbox, processor)
