"""Settings of reconciliation: the `[reconcile]` section (parsed by gateway.settings.reconcile).

[reconcile]
enabled = true
every = "1h"              # a run every hour in the gateway ("0": no schedule, the default)
store_path = "var/reconcile.sqlite"   # runs, findings, repair journal (default: in memory)
page_size = 200           # records per page of each scan
draft_max_age = "24h"     # a draft mirror older than this is stale
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PATH = ""  # no file: runs and the repair journal live in memory, for this process


@dataclass(frozen=True, slots=True)
class ReconcileSettings:
    enabled: bool = True
    every_s: float = 0.0
    store_path: str = DEFAULT_PATH
    page_size: int = 200
    draft_max_age_s: float = 86_400.0
