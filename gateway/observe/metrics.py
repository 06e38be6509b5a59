"""The gateway's Prometheus metrics, named as operators expect (units in names, `_total`
counters, histograms with buckets that fit a gateway's latencies).

One `Metrics` per app, on its own registry (several apps in one process, as in tests, never
mix). Label values stay few: operation names are folded to `other` past `max_operations`
distinct names (a client choosing names at random cannot grow the metrics), backend routes
are path templates (`/crm/v8/Sales_Orders/{id}`), error codes are the gateway's own.

    crossdock_graphql_operations_total{operation, type, outcome}
    crossdock_graphql_operation_duration_seconds{operation, type}        histogram
    crossdock_graphql_errors_total{code}
    crossdock_backend_requests_total{system, route, method, outcome}
    crossdock_backend_request_duration_seconds{system, route, method}    histogram
    crossdock_backend_retries_total{system}
    crossdock_backend_breaker_state{system, state}                       1 for the current
    crossdock_rate_limit_refusals_total{reason}
    crossdock_subscriptions_open                                         gauge
    crossdock_sync_changes{system, state}          inbox depth: pending, retrying, dead
    crossdock_sync_lag_seconds{system}             age of the oldest unfinished change
    crossdock_order_processes_unfinished           running, compensating or needing attention
    crossdock_order_processes{status}              those by status, and those held for approval
    crossdock_loader_batch_keys{loader, system}                          histogram
    crossdock_view_exports_total{view, format, outcome}
    crossdock_view_export_rows_total{view, format}
    crossdock_view_export_bytes_total{view, format}
    crossdock_order_process_step_duration_seconds{step, outcome}         histogram

Gauges of state kept elsewhere (the sync inbox, the journal, the change bus) are read when
scraped: `await metrics.refresh()` before `render()` (the endpoint does both).

With `PROMETHEUS_MULTIPROC_DIR` set (`serve --workers N`, gateway.observe.multiprocess),
`render()` sums every worker's files, each gauge declares how workers' values combine, and
the values of each worker (subscriptions, breakers) are also written every few seconds
(`start()`), so a scrape answered by another worker sees them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gateway.observe.multiprocess import LOCAL_EVERY_S, multiprocess_dir, render_all
from resolvers.background import Background
from resolvers.breaker import CircuitBreaker
from resolvers.http import Attempt
from resolvers.saga.state import UNFINISHED, ProcessState, ProcessStatus
from resolvers.sync.inbox import InboxStatus

log = logging.getLogger("crossdock.metrics")
ANONYMOUS = "anonymous"  # an operation without a name
OTHER = "other"  # names past the bound
OPERATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BACKEND_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BREAKER_STATES = ("closed", "open", "half_open")
BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)
STEP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
# Each loader's batch function (resolvers.loaders) and the system it reads; another name is
# counted as loader "other" (the label set stays the code's, and bounded).
LOADER_SYSTEMS = {
    "get_accounts": "crm",
    "accounts": "crm",
    "get_orders": "crm",
    "orders_by_customer": "crm",
    "products_by_sku": "crm",
    "get_products": "crm",
    "get_items": "scm",
    "list_bins": "scm",
    "erp_orders": "scm",
    "shipments": "scm",
    "shipments_by_order": "scm",
    "reorder_levels": "scm",
}

Breakers = Callable[[], Mapping[str, CircuitBreaker | None]]
Refresh = Callable[[], Awaitable[None]]
SYNC_SYSTEMS = ("crm", "erp")


class InboxLike(Protocol):
    async def status(self, *, failed_limit: int = 50) -> InboxStatus: ...


class JournalLike(Protocol):
    def unfinished(self) -> list[ProcessState]: ...
    def ended_since(self, statuses: Sequence[str], since: datetime) -> list[ProcessState]: ...


# The order-process states worth a gauge: the unfinished ones and the orders held for approval
# (ended until someone decides); the others are final and only grow.
WATCHED_STATUSES = (*(s.value for s in UNFINISHED), ProcessStatus.PENDING_APPROVAL.value)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Metrics:
    """The metric families of one gateway; `render()` is the `/metrics` body."""

    def __init__(self, *, max_operations: int = 100, breakers: Breakers | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.directory = multiprocess_dir()  # None: this process counts for itself
        self._local: list[Callable[[], None]] = []  # each worker's own gauges, written
        self._ticker = Background("crossdock-metrics-local", self._write_local)
        self.max_operations = max_operations
        self._names: set[str] = set()
        r = self.registry
        self.operations = Counter(
            "crossdock_graphql_operations",
            "GraphQL operations by name, type and outcome (ok, error, refused).",
            ("operation", "type", "outcome"),
            registry=r,
        )
        self.operation_seconds = Histogram(
            "crossdock_graphql_operation_duration_seconds",
            "Time from parse to answer of a GraphQL operation.",
            ("operation", "type"),
            buckets=OPERATION_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "crossdock_graphql_errors", "GraphQL errors by code.", ("code",), registry=r
        )
        self.backend_requests = Counter(
            "crossdock_backend_requests",
            "HTTP tries to the backends, by system, route template, method and outcome.",
            ("system", "route", "method", "outcome"),
            registry=r,
        )
        self.backend_seconds = Histogram(
            "crossdock_backend_request_duration_seconds",
            "Duration of one HTTP try to a backend.",
            ("system", "route", "method"),
            buckets=BACKEND_BUCKETS,
            registry=r,
        )
        self.backend_retries = Counter(
            "crossdock_backend_retries", "HTTP tries that were retries.", ("system",), registry=r
        )
        self.refusals = Counter(
            "crossdock_rate_limit_refusals",
            "Requests refused by a rate limit, by reason (requests, failed_auth).",
            ("reason",),
            registry=r,
        )
        self.loader_batches = Histogram(
            "crossdock_loader_batch_keys",
            "Distinct keys per loader batch (one backend call or a few, split by the "
            "system's batch limit), by loader and the system it reads.",
            ("loader", "system"),
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.exports = Counter(
            "crossdock_view_exports",
            "View exports (/views/{name}.{format}) that sent rows, by outcome (complete, aborted).",
            ("view", "format", "outcome"),
            registry=r,
        )
        self.export_rows = Counter(
            "crossdock_view_export_rows",
            "Rows sent by view exports.",
            ("view", "format"),
            registry=r,
        )
        self.export_bytes = Counter(
            "crossdock_view_export_bytes",
            "Bytes of body sent by view exports (before any HTTP compression).",
            ("view", "format"),
            registry=r,
        )
        self.step_seconds = Histogram(
            "crossdock_order_process_step_duration_seconds",
            "One run of an order-process step, from its journal start to its end, by outcome "
            "(done, failed); counted by the process that ran it.",
            ("step", "outcome"),
            buckets=STEP_BUCKETS,
            registry=r,
        )
        self._refreshers: list[Refresh] = []
        if breakers is not None and self.directory is None:
            r.register(_BreakerCollector(breakers))
        elif breakers is not None:
            self._breaker_gauge(breakers)

    def _breaker_gauge(self, breakers: Breakers) -> None:
        """Multiprocess mode: each worker's breakers, one series per worker (`pid`)."""
        gauge = Gauge(
            "crossdock_backend_breaker_state",
            "Circuit breaker state per backend (1 for the current state), per worker.",
            ("system", "state"),
            multiprocess_mode="liveall",
            registry=self.registry,
        )

        def write() -> None:
            for system, breaker in breakers().items():
                if breaker is not None:
                    for state in BREAKER_STATES:
                        gauge.labels(system, state).set(1.0 if state == breaker.state else 0.0)

        self._local.append(write)

    async def start(self) -> None:
        """Multiprocess mode: write this worker's own gauges every few seconds."""
        if self.directory is not None:
            self._ticker.start()

    async def stop(self) -> None:
        await self._ticker.stop()

    async def _write_local(self) -> None:
        while True:
            self._run_local()
            await asyncio.sleep(LOCAL_EVERY_S)

    def _run_local(self) -> None:
        for write in self._local:
            try:
                write()
            except Exception:  # a gauge that cannot be read keeps its value
                log.warning("metrics: a gauge could not be read", exc_info=True)

    async def refresh(self) -> None:
        """Read the gauges of state kept elsewhere; one that cannot be read keeps its value."""
        self._run_local()
        for refresh in self._refreshers:
            try:
                async with asyncio.timeout(3):
                    await refresh()
            except Exception:  # noqa: S112 (a store down must not fail the scrape)
                continue

    def watch_subscriptions(self, open_count: Callable[[], int]) -> None:
        gauge = Gauge(
            "crossdock_subscriptions_open",
            "Subscriptions open now (WebSocket operations and SSE streams).",
            multiprocess_mode="livesum",
            registry=self.registry,
        )
        if self.directory is None:
            gauge.set_function(lambda: float(open_count()))
        else:
            self._local.append(lambda: gauge.set(float(open_count())))

    def watch_sync(self, inbox: InboxLike) -> None:
        """Inbox depth by state and lag per source system, read from the inbox when scraped."""
        depth = Gauge(
            "crossdock_sync_changes",
            "Changes in the sync inbox by source system and state (pending, retrying, dead).",
            ("system", "state"),
            multiprocess_mode="mostrecent",
            registry=self.registry,
        )
        lag = Gauge(
            "crossdock_sync_lag_seconds",
            "Age of the oldest change of a source system not yet applied (0: none waits).",
            ("system",),
            multiprocess_mode="mostrecent",
            registry=self.registry,
        )

        async def read() -> None:
            status = await inbox.status(failed_limit=0)
            for source in status.sources:
                depth.labels(source.system, "pending").set(source.pending)
                depth.labels(source.system, "retrying").set(source.retrying)
                depth.labels(source.system, "dead").set(source.dead)
                lag.labels(source.system).set(source.lag_s)

        self._refreshers.append(read)

    def watch_order_processes(self, journal: JournalLike) -> None:
        """Order processes not yet ended: running, compensating, or needing attention. Read on
        the event loop, as the order process reads its journal (SQLite's connection belongs to
        the thread that opened it)."""
        gauge = Gauge(
            "crossdock_order_processes_unfinished",
            "Order processes not yet ended, read from the journal when scraped.",
            multiprocess_mode="mostrecent",
            registry=self.registry,
        )

        by_status = Gauge(
            "crossdock_order_processes",
            "Order processes now running, compensating, needing attention, or held for "
            "approval, read from the journal when scraped.",
            ("status",),
            multiprocess_mode="mostrecent",
            registry=self.registry,
        )

        async def read() -> None:
            unfinished = journal.unfinished()
            gauge.set(len(unfinished))
            held = journal.ended_since([ProcessStatus.PENDING_APPROVAL.value], EPOCH)
            counts = Tally(state.status.value for state in [*unfinished, *held])
            for status in WATCHED_STATUSES:
                by_status.labels(status).set(counts[status])

        self._refreshers.append(read)

    def operation_label(self, name: str | None) -> str:
        """The label for an operation name: bounded, so the series stay few."""
        if not name:
            return ANONYMOUS
        if name in self._names:
            return name
        if len(self._names) >= self.max_operations:
            return OTHER
        self._names.add(name)
        return name

    def operation(self, name: str | None, kind: str, outcome: str, seconds: float) -> None:
        label = self.operation_label(name)
        self.operations.labels(label, kind, outcome).inc()
        self.operation_seconds.labels(label, kind).observe(seconds)

    def error_codes(self, codes: Iterable[str]) -> None:
        for code in codes:
            self.errors.labels(code).inc()

    def backend(self, attempt: Attempt) -> None:
        """The requesters' observer: one HTTP try."""
        labels = (attempt.system, attempt.route, attempt.method)
        self.backend_requests.labels(*labels, attempt.outcome).inc()
        self.backend_seconds.labels(*labels).observe(attempt.seconds)
        if attempt.retry:
            self.backend_retries.labels(attempt.system).inc()

    def refused(self, reason: str) -> None:
        self.refusals.labels(reason).inc()

    def loader_batch(self, loader: str, keys: int) -> None:
        """The loaders' observer (resolvers.batch_sizes): one batch of `keys` distinct keys."""
        system = LOADER_SYSTEMS.get(loader)
        if system is None:
            loader, system = OTHER, "unknown"
        self.loader_batches.labels(loader, system).observe(keys)

    def export(self, view: str, fmt: str, outcome: str, rows: int, size: int) -> None:
        """One view export ended (complete or aborted) after sending `rows` rows, `size` bytes."""
        self.exports.labels(view, fmt, outcome).inc()
        self.export_rows.labels(view, fmt).inc(rows)
        self.export_bytes.labels(view, fmt).inc(size)

    def order_step(self, step: str, outcome: str, seconds: float) -> None:
        """The journal's observer (resolvers.saga.step_timing): one step ran to its end."""
        self.step_seconds.labels(step, outcome).observe(seconds)

    def render(self) -> bytes:
        if self.directory is not None:
            return render_all(self.directory)
        return generate_latest(self.registry)


class _BreakerCollector(Collector):
    """Each backend's breaker state, read when scraped (1 for the current state)."""

    def __init__(self, breakers: Breakers) -> None:
        self.breakers = breakers

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "crossdock_backend_breaker_state",
            "Circuit breaker state per backend (1 for the current state; none when disabled).",
            labels=("system", "state"),
        )
        for system, breaker in self.breakers().items():
            if breaker is None:
                continue
            current = breaker.state
            for state in BREAKER_STATES:
                family.add_metric((system, state), 1.0 if state == current else 0.0)
        yield family
