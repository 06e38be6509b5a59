"""Serving-time runtime tuning."""

from __future__ import annotations

import gc

from gateway.runtime import GC_THRESHOLDS, freeze_startup, loop_factory, tune_gc


def test_tune_gc_raises_the_collector_thresholds_and_returns_the_old_ones() -> None:
    before = gc.get_threshold()
    try:
        assert tune_gc() == before
        assert gc.get_threshold() == GC_THRESHOLDS
        assert GC_THRESHOLDS[0] > before[0]
    finally:
        gc.set_threshold(*before)


def test_freezing_startup_moves_what_is_alive_out_of_later_collections() -> None:
    built_at_startup = [{"schema": [1, 2, 3]}]  # containers: tracked by the collector
    try:
        freeze_startup()
        assert gc.get_freeze_count() > 0
        assert not any(obj is built_at_startup for obj in gc.get_objects(generation=2))
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
    assert any(obj is built_at_startup for obj in gc.get_objects(generation=2))


def test_the_loop_factory_gives_the_event_loop_uvicorn_serves_on() -> None:
    factory = loop_factory()
    assert factory is not None  # uvloop is a dependency on this platform
    loop = factory()
    try:
        assert type(loop).__module__.startswith("uvloop")
        assert loop.run_until_complete(_answer()) == 42
    finally:
        loop.close()


async def _answer() -> int:
    return 42
