"""The CPU sampler of bench.cpu_sample: weighted samples that add up to the CPU used, and the
report's areas by the innermost frame that names one."""

from __future__ import annotations

import gc
import json
import os
import signal
import time
from pathlib import Path

from bench.cpu_sample import Sampler, area, report


def _busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        sum(range(1000))


def test_the_samples_add_up_to_the_cpu_used_while_sampling(tmp_path: Path) -> None:
    out = tmp_path / "samples.json"
    previous = {s: signal.getsignal(s) for s in (signal.SIGPROF, signal.SIGUSR1, signal.SIGUSR2)}
    try:
        Sampler(out).install()
        os.kill(os.getpid(), signal.SIGUSR1)
        started = time.process_time()
        _busy(0.3)
        used = time.process_time() - started
        os.kill(os.getpid(), signal.SIGUSR2)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    rows = json.loads(out.read_text())["samples"]
    sampled = sum(weight for _, weight in rows)
    # CPU-time accounting, not speed: every sample weighs the CPU time since the one before
    assert 0.5 * used <= sampled <= used + 0.01
    assert any(frame[1] == "_busy" for stack, _ in rows for frame in stack)


def test_a_stack_counts_for_the_innermost_frame_that_names_an_area(tmp_path: Path) -> None:
    decode = [
        ["/usr/lib/python3.11/json/decoder.py", "raw_decode"],
        ["/repo/resolvers/zoho/wire.py", "call"],
        ["/repo/schema/orders.py", "order_lines"],
    ]
    mapping = [["/repo/resolvers/zoho/mapping.py", "to_order"], ["/repo/schema/root.py", "fetch"]]
    assert area(decode) == "backend calls: HTTP client and JSON decoding"
    assert area(mapping) == "connectors: backend rows to canonical records"
    assert area([["/usr/lib/python3.11/asyncio/events.py", "_run"]]) == "event loop and other"
    samples = tmp_path / "samples.json"
    gc_time = {"seconds": 0.01, "runs": 3}
    samples.write_text(json.dumps({"samples": [[decode, 0.03], [mapping, 0.01]], "gc": gc_time}))
    text = report(samples, requests=2, proc_cpu_s=0.04)
    assert "20.0 ms sampled, 20.0 ms from /proc (2 requests)" in text
    assert "Cyclic garbage collection: 25.0 % of it (3 collections in 2 requests)" in text
    assert "| backend calls: HTTP client and JSON decoding | 75.0 % |" in text


def test_collections_are_timed_only_while_sampling(tmp_path: Path) -> None:
    out = tmp_path / "samples.json"
    sampler = Sampler(out)
    previous = {s: signal.getsignal(s) for s in (signal.SIGPROF, signal.SIGUSR1, signal.SIGUSR2)}
    gc.disable()  # only the collections below run
    try:
        sampler.install()
        gc.collect()  # before sampling: not counted
        os.kill(os.getpid(), signal.SIGUSR1)
        gc.collect()
        gc.collect()
        os.kill(os.getpid(), signal.SIGUSR2)
        gc.collect()  # after: not counted
    finally:
        gc.enable()
        gc.callbacks.remove(sampler._collecting)
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    written = json.loads(out.read_text())["gc"]
    assert written["runs"] == 2
    assert written["seconds"] >= 0
