"""`python -m bench.metrics`: the report compares medians with metrics off, and the
multiprocess store it switches to during the multiprocess gateway's turns really writes
every value, labelled ones included, to files, and is switched back after."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import values

from bench.metrics import MULTIPROCESS, report, store_for
from gateway.observe.metrics import Metrics
from gateway.observe.multiprocess import ENV


def test_the_report_compares_medians_with_metrics_off() -> None:
    text = report({"off": [10.0, 12.0, 50.0], "on": [11.0, 13.2, 9.0]}, "W2")
    assert "| off | 12.00 | 1.000x |" in text
    assert "| on | 11.00 | 0.917x |" in text


def test_the_multiprocess_turns_write_files_and_the_others_do_not(tmp_path: Path) -> None:
    before, env = values.ValueClass, os.environ.get(ENV)
    with store_for(MULTIPROCESS, tmp_path):
        counted = Metrics()
        counted.refused("requests")
        assert b'crossdock_rate_limit_refusals_total{reason="requests"} 1.0' in counted.render()
    assert (values.ValueClass, os.environ.get(ENV)) == (before, env)
    assert list(tmp_path.glob("counter_*.db"))
    files = sorted(p.stat().st_size for p in tmp_path.glob("*.db"))
    with store_for("on", tmp_path):
        alone = Metrics()
        alone.refused("requests")
    assert alone.directory is None
    assert sorted(p.stat().st_size for p in tmp_path.glob("*.db")) == files
