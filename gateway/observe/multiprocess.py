"""`/metrics` summed over the workers of `crossdock serve --workers N` (prometheus-client's
multiprocess mode).

Each worker is its own interpreter with its own counters, and a scrape reaches one worker
(the kernel picks). So with more than one worker the supervisor, before it starts any,
points `PROMETHEUS_MULTIPROC_DIR` at a directory (the one given, else a fresh temporary one)
and empties it of old files; the workers inherit the variable, so prometheus-client keeps
every value in a memory-mapped file per worker there, and whichever worker answers a scrape
reads them all (`MultiProcessCollector`): counters and histograms are the sum over workers,
including workers that have since exited (a counter never goes back). When a worker exits,
its files of "live" gauges are removed (`mark_process_dead`), so its subscriptions and
breaker no longer show.

Gauges, each with the mode that fits what it measures:
- state the workers share (sync inbox, order journal in PostgreSQL): `mostrecent`, the value
  of the last worker that read it (each reads it when it answers a scrape);
- state of each worker (open subscriptions): `livesum`; breaker state: `liveall`, one series
  per worker (`pid` label): each worker has its own breaker.
Those of each worker are written every `LOCAL_EVERY_S` seconds and at every scrape it answers.

The variable must be set before prometheus-client is imported (it picks its value store at
import): the supervisor sets it before it spawns the workers, which are fresh interpreters.
"""

from __future__ import annotations

import glob
import logging
import os
import tempfile
from collections.abc import MutableMapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

log = logging.getLogger("crossdock.metrics")
ENV = "PROMETHEUS_MULTIPROC_DIR"
LOCAL_EVERY_S = 5.0


def multiprocess_dir(environ: MutableMapping[str, str] | None = None) -> str | None:
    """The directory of multiprocess mode, or None when each process counts for itself."""
    return (os.environ if environ is None else environ).get(ENV) or None


def prepare(workers: int, environ: MutableMapping[str, str] | None = None) -> str | None:
    """In the supervisor, before any worker starts: with more than one worker, the directory
    (given, else a new temporary one) emptied of earlier runs' files and set in `environ`."""
    env = os.environ if environ is None else environ
    if workers <= 1:
        return multiprocess_dir(env)
    directory = multiprocess_dir(env) or tempfile.mkdtemp(prefix="crossdock-metrics-")
    os.makedirs(directory, exist_ok=True)
    stale = glob.glob(os.path.join(directory, "*.db"))
    for path in stale:
        os.remove(path)
    env[ENV] = directory
    log.info("metrics: %d workers count into %s (%d old files)", workers, directory, len(stale))
    return directory


def worker_exited(pid: int | None, environ: MutableMapping[str, str] | None = None) -> None:
    """A worker is gone: its live gauges (subscriptions, breakers) stop counting."""
    directory = multiprocess_dir(environ)
    if directory is not None and pid is not None:
        mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def render_all(directory: str) -> bytes:
    """Every worker's metrics, summed as their modes say."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
