"""Building the whole, secure gateway from Settings: the one place where the pieces meet.

    backends = build_backends(settings)
    app = assemble(settings, crm=backends.crm, scm=backends.scm, on_shutdown=[backends.aclose])

`assemble` loads the access policy and checks it against the schema (a bad policy is a
startup error naming the rule), verifies bearer tokens (anonymous callers get 401, except
/healthz, /readyz and the GraphiQL page), enforces the policy on every operation (hide, null or
reject mode, masks, partner row rules, per-role introspection, audit log), and runs the order
process over an encrypted journal, serves subscriptions from the change bus
(`app.state.change_bus`, where the sync processor publishes) unless `[subscriptions]
enabled = false`, recovering interrupted processes in the background once
the app starts (and resolving those whose outcome was unknown, every few seconds).

State (resolvers.state, `[state]`): embedded by default; with PostgreSQL and Redis configured
the journal, the order process's locks and the rate limits are shared by every worker and
replica, /readyz also checks both stores, the change bus reaches subscribers on every
replica over a Redis Stream, the CRM's OAuth token is shared (gateway.shared_tokens), and
reconciliation is stored and scheduled once for all (gateway.reconciliation).

Hardening (see gateway.protection.hardening): the HTTP guard and CORS around /graphql,
operation limits per role, trusted documents, rate limits per caller; backend TLS and
protection from settings.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.access.audit import AuditLog
from gateway.access.extension import access_extension
from gateway.access.policy import Policy, PolicyError
from gateway.access.policy_check import check_policy
from gateway.app import Shutdown, Startup, create_app
from gateway.auth import Authenticator, AuthError, auth_exception_handler
from gateway.auth.jwks import JWKSCache
from gateway.console import mount_console
from gateway.inbound.service import open_inbound
from gateway.inbound.sinks import BusSink
from gateway.observe.metrics import Metrics
from gateway.observe.tracing import Tracing, open_tracing
from gateway.protection.hardening import Hardening, backend_verify
from gateway.protection.shared_ratelimit import shared_rate_limiter
from gateway.reconciliation import open_reconciliation
from gateway.settings import Settings, SettingsError
from gateway.settings.saga import missing_key_error
from gateway.shared_breakers import share_breakers
from gateway.shared_tokens import share_crm_token
from gateway.sync import open_sync
from gateway.views import ViewConfigError, ViewOptions, load_views, mount_views
from resolvers.erpnext import ERPNext, ERPNextOptions
from resolvers.errors import CrossdockError
from resolvers.fast_transport import AiohttpTransport
from resolvers.fxiaoke import FxiaokeCRM, FxiaokeOptions
from resolvers.ports import CrmPort, ErpPort
from resolvers.saga import OrderProcessService
from resolvers.saga.journal import JournalStore
from resolvers.saga.recovery import Resolver
from resolvers.saga.step_timing import TimedJournal
from resolvers.state.layer import EmbeddedState, StateLayer, StateStartError, open_state
from resolvers.sync import ChangeBus, ChangeSink
from resolvers.sync.runtime import SyncRuntime
from resolvers.transport import HttpxTransport, Transport
from resolvers.zoho import ZohoCRM, ZohoOptions
from schema.build import Extension
from schema.root import Mutation, QueryWithOrderProcess

logger = logging.getLogger("crossdock.gateway")


@dataclass(frozen=True)
class Backends:
    """The two connectors built from settings, and the HTTP clients to close on shutdown."""

    crm: CrmPort
    scm: ERPNext
    clients: tuple[Transport, ...]

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


def build_backends(settings: Settings) -> Backends:
    """Connectors over pooled HTTP clients sized by `max_connections`, one per backend."""
    crm_client = backend_transport("crm", settings.crm)
    scm_client = backend_transport("scm", settings.scm)
    crm = build_crm(crm_client, settings.crm)
    scm = ERPNext(scm_client, settings.scm)
    return Backends(crm=crm, scm=scm, clients=(crm_client, scm_client))


def backend_transport(
    section: str, options: ZohoOptions | FxiaokeOptions | ERPNextOptions
) -> Transport:
    """The client `[section] http_client` names: aiohttp by default (resolvers/
    fast_transport.py: a fifth of httpx's CPU per request, same timeouts, TLS and errors), or
    httpx; either verifies TLS with `ca_bundle` and holds at most `max_connections`."""
    verify = backend_verify(section, options.ca_bundle)
    if options.http_client == "httpx":
        client = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=options.max_connections),
            timeout=options.timeouts.to_httpx(),
            verify=verify,
        )
        return HttpxTransport(client)
    return AiohttpTransport(max_connections=options.max_connections, verify=verify)


def build_crm(
    client: httpx.AsyncClient | Transport, options: ZohoOptions | FxiaokeOptions
) -> CrmPort:
    """The connector `[crm] kind` names, over `client`."""
    if isinstance(options, FxiaokeOptions):
        return FxiaokeCRM(client, options)
    return ZohoCRM(client, options)


def load_policy(settings: Settings) -> Policy:
    """The configured policy file (or the shipped one); errors name the file and the rule."""
    try:
        return Policy.load(settings.policy.path)
    except (PolicyError, OSError) as exc:
        where = settings.policy.path or "the shipped policy"
        raise SettingsError(f"policy.path {where}: {exc}") from None


@dataclass(frozen=True)
class OrderProcess:
    """The order process service, the journal it writes (closed on shutdown), and its
    background resolver: start-up recovery, then a pass every `resolve_interval_s`."""

    service: OrderProcessService
    journal: JournalStore
    resolver: Resolver

    async def start(self) -> None:
        """Recovery runs in the background: the server listens (and /healthz answers) at once;
        /readyz says `recovering` until it is done."""
        self.resolver.start()

    def recovering(self) -> bool:
        return self.resolver.recovering

    async def close(self) -> None:
        await self.resolver.stop()
        self.journal.close()


def open_order_process(
    settings: Settings, crm: CrmPort, scm: ErpPort, state: StateLayer | None = None
) -> OrderProcess | None:
    """The order process over its journal, or None when `[saga] enabled = false`; with a
    shared `state`, the journal is in PostgreSQL and the locks in Redis."""
    saga = settings.saga
    if not saga.enabled:
        return None
    if saga.missing_key:
        raise missing_key_error()
    state = state or EmbeddedState()
    try:
        journal = TimedJournal(state.open_journal(saga))  # step durations, for the metrics
    except CrossdockError as exc:
        raise SettingsError(exc.message) from None
    except OSError as exc:
        raise SettingsError(
            f"saga.journal_path {saga.journal_path} cannot be opened ({exc})"
        ) from None
    service = OrderProcessService(
        crm,
        scm,
        journal,
        saga.rules,
        delivery_lead_days=saga.delivery_lead_days,
        patience=saga.patience,
        recovery_wait_s=saga.recovery_wait_s,
        limits=saga.limits,
        on_short_reservation=saga.on_short_reservation,
        locks=state.locks,
    )
    return OrderProcess(service, journal, Resolver(service, interval_s=saga.resolve_interval_s))


def _authenticator(
    settings: Settings, policy: Policy, on_shutdown: list[Shutdown]
) -> Authenticator:
    jwks = None
    if settings.auth.jwks_url:
        client = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
        jwks = JWKSCache(settings.auth.jwks_url, client)
        on_shutdown.append(client.aclose)
    return Authenticator(settings.auth, policy, jwks=jwks)


def assemble(
    settings: Settings,
    *,
    crm: CrmPort,
    scm: ErpPort,
    extensions: Sequence[Extension] = (),
    routes: Sequence[Route] = (),
    on_shutdown: Sequence[Shutdown] = (),
    change_sink: ChangeSink | None = None,
    tracing: Tracing | None = None,
) -> Starlette:
    """The production gateway: auth, policy, access control, audit, the order process.

    With `[inbound] enabled`, /hooks/zoho, /hooks/erpnext and the catch-up poll put changes
    into `change_sink` if given, else into the sync inbox (`[sync] enabled`), else straight
    onto the subscriptions' change bus (gateway.inbound).

    `extensions` run after access control and the hardening's own (trusted documents,
    limits); SettingsError when the configuration cannot work (bad policy, missing journal
    key, unreadable files, a bad trusted-documents manifest).
    """
    policy = load_policy(settings)
    _warn_unshared_cursor_key(settings)
    hardening = Hardening.from_settings(settings)
    closers: list[Shutdown] = []
    audit = AuditLog(settings.policy.audit_log) if settings.policy.audit_log else None
    access = access_extension(policy, mode=settings.policy.mode, audit=audit)
    state = _open_state(settings)
    share_crm_token(crm, state)  # shared state: one OAuth token for every replica
    process = open_order_process(settings, crm, scm, state)
    starters: list[Startup] = [] if process is None else [process.start]
    if process is not None:
        closers.append(process.close)
    service = None if process is None else process.service
    journal = None if process is None else process.journal
    breakers = share_breakers(settings, crm, scm, state)  # [state] share_breakers
    if breakers is not None:
        starters.append(breakers.start)
        closers.append(breakers.aclose)
    recon = open_reconciliation(settings, crm, scm, journal=journal, processes=service, state=state)
    if recon is not None:
        starters.append(recon.start)
        closers.append(recon.close)
    # in process, or across replicas over Redis with shared state (resolvers.sync.redis_bus)
    bus = state.change_bus() if settings.subscriptions.enabled else None
    if bus is not None:
        starters.append(bus.start)
        closers.append(bus.aclose)  # subscriptions end; the Redis tasks stop
    closers.append(state.aclose)
    tracing = tracing or open_tracing(settings.tracing, os.environ)
    tracer = None if tracing is None else tracing.tracer
    sync = open_sync(settings.sync, crm, scm, service, bus, state, tracer)  # None unless [sync] on
    if sync is not None:
        starters.append(sync.start)
        closers.insert(0, sync.close)
    inbound = open_inbound(
        settings,
        crm=crm,
        scm=scm,
        sink=_sink(settings, change_sink or sync, bus),
        watermarks=sync.inbox if sync is not None else None,
    )
    if inbound is not None:
        routes = [*routes, *inbound.routes()]
        starters.append(inbound.start)
        closers.insert(0, inbound.stop)
    metrics = _metrics(settings, crm, scm)
    if metrics is not None:  # with several workers, each writes its own gauges (observe)
        starters.append(metrics.start)
        closers.append(metrics.stop)
    app = create_app(
        settings,
        crm=crm,
        scm=scm,
        authenticate=_authenticator(settings, policy, closers),
        extensions=[access, *hardening.extensions, *extensions],
        mutation=None if service is None else Mutation,
        query=None if service is None else QueryWithOrderProcess,
        order_process=service,
        on_startup=starters,
        on_shutdown=[*closers, *on_shutdown],
        routes=routes,
        rate_limiter=shared_rate_limiter(hardening.rate_limiter, state.buckets),
        middleware=hardening.middleware,
        recovering=None if process is None else process.recovering,
        change_bus=bus,
        metrics=metrics,
        probes={"state": state.probe} if state.kind == "shared" else None,
        tracing=tracing,
    )
    _watch(app.state.metrics, process, sync, bus)
    app.state.order_process = process
    app.state.reconciliation = recon  # schema.reconcile reads it
    app.state.sync = sync
    app.state.inbound = inbound
    app.state.state_layer = state
    app.add_exception_handler(AuthError, auth_exception_handler)
    try:
        check_policy(policy, app.state.schema._schema)
    except PolicyError as exc:
        raise SettingsError(f"policy {settings.policy.path or '(shipped)'}: {exc}") from None
    if settings.views.enabled:
        _mount_views(app, settings, policy)
    if settings.console.enabled:
        mount_console(app)
    return app


def _metrics(settings: Settings, crm: CrmPort, scm: ErpPort) -> Metrics | None:
    """The app's metrics (`[metrics]`), with each backend's breaker read when scraped."""
    if not settings.metrics.enabled:
        return None
    return Metrics(
        max_operations=settings.metrics.max_operations,
        breakers=lambda: {"crm": crm.requester.breaker, "scm": scm.requester.breaker},
    )


def _watch(
    metrics: Metrics | None,
    process: OrderProcess | None,
    sync: SyncRuntime | None,
    bus: ChangeBus | None,
) -> None:
    """The gauges of state the app holds: open subscriptions, sync inbox, unfinished orders."""
    if metrics is None:
        return
    if bus is not None:
        metrics.watch_subscriptions(lambda: bus.subscribers)
    if sync is not None:
        metrics.watch_sync(sync.inbox)
    if process is not None:
        metrics.watch_order_processes(process.journal)
        if isinstance(process.journal, TimedJournal):
            process.journal.observe = metrics.order_step


def _sink(settings: Settings, given: ChangeSink | None, bus: ChangeBus | None) -> ChangeSink:
    """Where received changes go: the given sink, else the change bus."""
    if given is not None:
        return given
    if bus is None and settings.inbound.enabled:
        raise SettingsError(
            "inbound.enabled needs somewhere to put changes: turn on [sync] (the inbox and its "
            "rules) or [subscriptions], or set [inbound] enabled = false"
        )
    return BusSink(bus or ChangeBus())


def _open_state(settings: Settings) -> StateLayer:
    """The state layer of `[state]`; a shared store that cannot be used is a start-up error."""
    try:
        return open_state(settings.state)
    except StateStartError as exc:
        raise SettingsError(str(exc)) from None


def _warn_unshared_cursor_key(settings: Settings) -> None:
    """In production, say once that cursors die with the process when no key is configured."""
    if settings.server.environment == "production" and settings.graphql.cursor_key is None:
        logger.warning(
            "graphql.cursor_key is not set: cursors are signed with a key of this process, so "
            "they fail (BAD_CURSOR) after a restart and on other replicas; set "
            "CROSSDOCK_CURSOR_KEY or [graphql] cursor_key to one random value for all replicas"
        )


def _mount_views(app: Starlette, settings: Settings, policy: Policy) -> None:
    """The BI views over the same /graphql endpoint; a bad view file is a startup error."""
    where = settings.views.path or "(shipped)"
    try:
        views = load_views(settings.views.path)
        options = ViewOptions(
            denied_columns=settings.views.denied_columns,
            csv_formulas=settings.views.csv_formulas,
            watermark_overlap_s=settings.views.watermark_overlap_s,
            on_export=None if app.state.metrics is None else app.state.metrics.export,
        )
        mount_views(app, views, policy=policy, options=options, limits=settings.limits.default)
    except (ViewConfigError, OSError) as exc:
        raise SettingsError(f"views {where}: {exc} (fix the file or set [views] path)") from None
