"""`crossdock serve --workers N`: N gateway processes, each with its own listening socket.

    supervise(WorkerSpec(config="crossdock.toml", host=None, port=None), workers=2)

Each worker is a fresh interpreter (multiprocessing "spawn") that loads the settings, builds
the app and serves it with uvicorn on a socket of its own bound with SO_REUSEPORT: the kernel
spreads incoming connections over the workers by a hash of their addresses. (With uvicorn's
`--workers`, the workers accept from one shared socket, and whichever is awake first takes the
connection: measured, one worker sometimes served everything.) Access-log lines carry the
worker's pid, which is how the spread is measured (docs/scale-out.md). `/metrics` sums the
workers' counts (prometheus-client's multiprocess mode, gateway.observe.multiprocess).

Shutdown: SIGTERM or SIGINT to the supervisor is passed to every worker; uvicorn then stops
accepting, finishes the requests under way (up to `graceful_s`), and runs the app's shutdown
(subscriptions end, connections close). A worker still alive after that is killed. A worker
that dies on its own is restarted; one that dies within `min_uptime_s` of its start (a
configuration or port problem) stops the whole group with its exit status.
"""

from __future__ import annotations

import copy
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from gateway.observe.multiprocess import multiprocess_dir, worker_exited
from gateway.observe.multiprocess import prepare as prepare_metrics

log = logging.getLogger("crossdock.workers")
EXIT_PORT_IN_USE = 3


@dataclass(frozen=True)
class WorkerSpec:
    """What each worker needs to build the gateway (the environment is inherited)."""

    config: str | None
    host: str | None
    port: int | None
    graceful_s: float = 30.0


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket bound with SO_REUSEPORT (Linux, BSD, macOS)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def log_config_with_pid() -> dict[str, Any]:
    """uvicorn's logging, each line prefixed with the worker's pid."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    for formatter in config["formatters"].values():
        formatter["fmt"] = "%(levelprefix)s [%(process)d] " + formatter["fmt"].removeprefix(
            "%(levelprefix)s "
        )
    return config


def run_worker(spec: WorkerSpec) -> None:
    """One worker: settings, backends, app, uvicorn on its own SO_REUSEPORT socket."""
    import uvicorn

    from gateway.observe.logs import log_config
    from gateway.runtime import freeze_startup, tune_gc
    from gateway.server import uvicorn_options
    from gateway.settings import load_settings
    from gateway.wiring import assemble, build_backends

    tune_gc()
    settings = load_settings(spec.config, os.environ)
    options = uvicorn_options(settings, host=spec.host, port=spec.port)
    host, port = options.pop("host"), options.pop("port")
    try:
        sock = reuseport_socket(host, port)
    except OSError as exc:
        print(f"crossdock serve: worker cannot listen on {host}:{port} ({exc})", file=sys.stderr)
        sys.exit(EXIT_PORT_IN_USE)
    backends = build_backends(settings)
    app = assemble(settings, crm=backends.crm, scm=backends.scm, on_shutdown=[backends.aclose])
    freeze_startup()
    config = uvicorn.Config(
        app,
        log_level="info",
        log_config=log_config(settings.logging, base=log_config_with_pid()),
        timeout_graceful_shutdown=int(spec.graceful_s),
        **options,
    )
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """Starts the workers, restarts one that dies, and stops them all on a signal."""

    def __init__(self, spec: WorkerSpec, workers: int, *, min_uptime_s: float = 5.0) -> None:
        self.spec = spec
        self.count = workers
        self.min_uptime_s = min_uptime_s
        self._context = multiprocessing.get_context("spawn")
        self._workers: dict[int, tuple[BaseProcess, float]] = {}
        self._stopping = False

    def run(self) -> int:
        """Serve until a signal (exit 0) or a worker failing at start (its exit status)."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            for index in range(self.count):
                self._start(index)
            status = self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _start(self, index: int) -> None:
        process = self._context.Process(
            target=run_worker, args=(self.spec,), name=f"crossdock-worker-{index}"
        )
        process.start()
        self._workers[index] = (process, time.monotonic())
        print(f"crossdock serve: worker {index} started (pid {process.pid})", file=sys.stderr)

    def _watch(self) -> int:
        while not self._stopping:
            time.sleep(0.2)
            for index, (process, started) in list(self._workers.items()):
                if process.is_alive() or self._stopping:
                    continue
                status = process.exitcode or 0
                worker_exited(process.pid)  # its live gauges stop counting
                print(
                    f"crossdock serve: worker {index} (pid {process.pid}) exited with status "
                    f"{status}",
                    file=sys.stderr,
                )
                if time.monotonic() - started < self.min_uptime_s:
                    print(
                        "crossdock serve: it died at start; stopping the other workers",
                        file=sys.stderr,
                    )
                    return status if status > 0 else 1
                self._start(index)
        return 0

    def _stop_all(self) -> None:
        """SIGTERM to every worker (uvicorn drains), then SIGKILL after the grace period."""
        for process, _ in self._workers.values():
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + self.spec.graceful_s + 5.0
        for process, _ in self._workers.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                print(f"crossdock serve: worker pid {process.pid} killed", file=sys.stderr)
                process.kill()
                process.join()


def supervise(spec: WorkerSpec, workers: int) -> int:
    given = multiprocess_dir()
    directory = prepare_metrics(workers)  # PROMETHEUS_MULTIPROC_DIR, before any worker starts
    try:
        return Supervisor(spec, workers).run()
    finally:
        if directory is not None and given is None:  # a temporary one of ours
            shutil.rmtree(directory, ignore_errors=True)
