"""Building reconciliation from Settings, for the gateway (scheduled runs, the GraphQL
fields) and for `crossdock reconcile`.

    recon = open_reconciliation(settings, crm, scm, journal=journal, processes=service)
    record = await recon.service.run(trigger="cli")
    await recon.close()

Without `[reconcile] store_path` the store is in memory (the last run lasts as long as the
process). The store's payloads are sealed with the order journal's key when there is one. Processes
(category 7) are read from the order journal when the order process is on; their repairs
need the order-process service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from gateway.settings import Settings, SettingsError
from resolvers.ports import CrmPort, ErpPort
from resolvers.reconcile import Reconciler
from resolvers.reconcile.engine import ProcessReader
from resolvers.reconcile.repairs import ProcessFixer, Repairer
from resolvers.reconcile.service import ReconcileService, Schedule
from resolvers.reconcile.store import ReconcileStore
from resolvers.saga import Sealer


@dataclass
class Reconciliation:
    """The service, its store and (in the gateway) its schedule."""

    service: ReconcileService
    store: ReconcileStore
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
) -> Reconciliation | None:
    """Reconciliation over the two connectors, or None when `[reconcile] enabled = false`."""
    options = settings.reconcile
    if not options.enabled:
        return None
    sealer = Sealer.from_base64(settings.saga.journal_key) if settings.saga.journal_key else None
    try:
        if options.store_path:
            Path(options.store_path).parent.mkdir(parents=True, exist_ok=True)
        store = ReconcileStore(options.store_path or ":memory:", sealer)
    except OSError as exc:
        raise SettingsError(
            f"reconcile.store_path {options.store_path} cannot be opened ({exc}); "
            "point it at a writable file (CROSSDOCK_RECONCILE_PATH)"
        ) from None
    reconciler = Reconciler(
        crm,
        scm,
        processes=journal,
        page_size=options.page_size,
        draft_max_age=timedelta(seconds=options.draft_max_age_s),
    )
    repairer = Repairer(reconciler, store=store, processes=processes)
    service = ReconcileService(reconciler, store, repairer)
    return Reconciliation(service, store, Schedule(service, every_s=options.every_s))
