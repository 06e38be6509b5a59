"""Serving-time runtime tuning."""

from __future__ import annotations

import gc

from gateway.runtime import GC_THRESHOLDS, tune_gc


def test_tune_gc_raises_the_collector_thresholds_and_returns_the_old_ones() -> None:
    before = gc.get_threshold()
    try:
        assert tune_gc() == before
        assert gc.get_threshold() == GC_THRESHOLDS
        assert GC_THRESHOLDS[0] > before[0]
    finally:
        gc.set_threshold(*before)
