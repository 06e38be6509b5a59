"""Building reconciliation from Settings, for the gateway (scheduled runs, the GraphQL
fields) and for `crossdock reconcile`.

    recon = open_reconciliation(settings, crm, scm, journal=journal, processes=service)
    record = await recon.service.run(trigger="cli")
    await recon.close()

Without `[reconcile] store_path` the store is in memory (the last run lasts as long as the
process). With shared state (`[state] postgres_url`, `state` given), runs, findings and
repairs are in PostgreSQL for every replica (`store_path` is not used), the schedule runs
once per interval across all of them (resolvers.state.pg_reconcile), and a repair of one
finding holds a Redis lock so two replicas never apply it at once.

The store's payloads are sealed with the order journal's key when there is one. Processes
(category 7) are read from the order journal when the order process is on; their repairs
need the order-process service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.settings import Settings, SettingsError
from resolvers.ports import CrmPort, ErpPort
from resolvers.reconcile import Reconciler
from resolvers.reconcile.engine import ProcessReader
from resolvers.reconcile.repairs import ProcessFixer, Repairer
from resolvers.reconcile.service import ReconcileService, Schedule, Turns
from resolvers.reconcile.store import ReconcileStore, RunStore
from resolvers.saga import Sealer

if TYPE_CHECKING:
    from resolvers.state.layer import StateLayer


@dataclass
class Reconciliation:
    """The service, its store and (in the gateway) its schedule."""

    service: ReconcileService
    store: RunStore
    schedule: Schedule

    async def start(self) -> None:
        self.schedule.start()

    async def close(self) -> None:
        await self.schedule.stop()
        self.store.close()


def open_reconciliation(
    settings: Settings,
    crm: CrmPort,
    scm: ErpPort,
    *,
    journal: ProcessReader | None = None,
    processes: ProcessFixer | None = None,
    state: StateLayer | None = None,
) -> Reconciliation | None:
    """Reconciliation over the two connectors, or None when `[reconcile] enabled = false`;
    with a shared `state`, stored in PostgreSQL and scheduled once across replicas."""
    options = settings.reconcile
    if not options.enabled:
        return None
    sealer = Sealer.from_base64(settings.saga.journal_key) if settings.saga.journal_key else None
    store, turns = _shared(settings, state, sealer) if state is not None else (None, None)
    store = store or _local_store(settings, sealer)
    reconciler = Reconciler(
        crm,
        scm,
        processes=journal,
        page_size=options.page_size,
        draft_max_age=timedelta(seconds=options.draft_max_age_s),
    )
    locks = state.locks if state is not None and state.kind == "shared" else None
    repairer = Repairer(reconciler, store=store, processes=processes, locks=locks)
    service = ReconcileService(reconciler, store, repairer)
    schedule = Schedule(service, every_s=options.every_s, turns=turns)
    return Reconciliation(service, store, schedule)


def _shared(
    settings: Settings, state: StateLayer, sealer: Sealer | None
) -> tuple[RunStore | None, Turns | None]:
    """The PostgreSQL store and schedule turns when the state is shared; else neither."""
    pool = getattr(state, "pool", None)
    if state.kind != "shared" or pool is None:
        return None, None
    from resolvers.state.pg_reconcile import PostgresReconcileStore, PostgresTurns

    every_s = settings.reconcile.every_s
    turns = PostgresTurns(pool, every_s=every_s, lease_s=settings.state.lease_s)
    return PostgresReconcileStore(pool, sealer), turns


def _local_store(settings: Settings, sealer: Sealer | None) -> RunStore:
    """The SQLite store of `[reconcile] store_path` (in memory without one)."""
    options = settings.reconcile
    try:
        if options.store_path:
            Path(options.store_path).parent.mkdir(parents=True, exist_ok=True)
        return ReconcileStore(options.store_path or ":memory:", sealer)
    except OSError as exc:
        raise SettingsError(
            f"reconcile.store_path {options.store_path} cannot be opened ({exc}); "
            "point it at a writable file (CROSSDOCK_RECONCILE_PATH)"
        ) from None
