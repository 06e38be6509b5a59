"""Process-wide runtime tuning for a serving gateway.

A GraphQL response builds tens of thousands of short-lived objects (field results, resolve
infos, awaitables); with CPython's default generation-0 threshold (700 allocations) the cyclic
collector runs hundreds of times per large request. `tune_gc` raises the thresholds once, at
serve start, so collections are rarer and cheaper; memory stays bounded by the same collector.

    tune_gc()  # in `crossdock serve`, before uvicorn starts
    ...        # settings, backends, the app: objects that live as long as the process
    freeze_startup()

`freeze_startup` moves what startup built (modules, the schema, settings, the app) out of
the collector's reach: a full collection then scans only what requests create (measured on a
100k-row export: ~60 ms -> ~20 ms per full collection). `loop_factory` is the event loop
uvicorn serves on (uvloop when installed), for code that runs the app outside uvicorn.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

GC_THRESHOLDS = (20_000, 50, 100)


def tune_gc(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> tuple[int, int, int]:
    """Set the collector's thresholds; returns the previous ones (to restore them in tests)."""
    previous = gc.get_threshold()
    gc.set_threshold(*thresholds)
    return previous


def freeze_startup() -> None:
    """Collect once, then exempt every object alive now from future collections."""
    gc.collect()
    gc.freeze()


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when installed (what `crossdock serve` runs on), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # uvloop has no Windows build
        return None
    return uvloop.new_event_loop
