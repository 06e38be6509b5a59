"""The export benchmark at a tiny scale: it runs end to end and prints a table whose rows
agree between the streamed and the whole-result export. (`python -m bench.export` is the
real measurement; it is not part of the suite.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bench.export import Result, median, table


def test_the_table_reports_the_memory_growth_between_sizes() -> None:
    results = [
        Result(10_000, "stream", 10_000, 2.0, 600, 100.0),
        Result(10_000, "whole", 10_000, 2.0, 600, 120.0),
        Result(100_000, "stream", 100_000, 20.0, 6000, 105.0),
    ]
    text = table(results)
    assert "| 10,000 | stream | 10,000 | 2.0 | 5,000 | 600 | 100.0 | 1 |" in text
    assert "peak RSS at 100,000 vs 10,000 lines: +5.0 %" in text


def test_the_benchmark_runs_end_to_end_at_a_tiny_scale(tmp_path: Path) -> None:
    argv = [
        *(sys.executable, "-m", "bench.export", "--sizes", "300", "--repeat", "1"),
        *("--data-dir", str(tmp_path)),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    assert done.returncode == 0, done.stderr[-3000:]
    rows = re.findall(
        r"^\| 300 \| (stream|parquet|whole) \| ([\d,]+) \|.*\| ([\d,]+) \| [\d.]+ \| 1 \|$",
        done.stdout,
        re.M,
    )
    assert [mode for mode, _, _ in rows] == ["stream", "parquet", "whole"]
    assert rows[0][1] == rows[1][1] == rows[2][1]  # every way exports the same number of rows
    assert int(rows[0][1].replace(",", "")) > 100
    assert int(rows[0][2].replace(",", "")) > 0  # backend calls were counted


def test_a_size_reports_its_median_run() -> None:
    runs = [
        Result(100, "stream", 100, seconds, 10, peak)
        for seconds, peak in ((1.0, 90.0), (4.0, 70.0), (2.0, 80.0))
    ]
    middle = median(runs)
    assert middle.seconds == 2.0  # 50 rows/s: between 100 and 25
    assert middle.peak_rss_mb == 80.0
    assert middle.runs == 3
