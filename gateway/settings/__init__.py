"""One frozen Settings object: a TOML file, then `CROSSDOCK_*` environment overrides.

Read once at startup and validated up front. Every error names the key and the fix, e.g.
`crm.accounts_url is missing (set CROSSDOCK_CRM_ACCOUNTS_URL or [crm] accounts_url)`.
Unknown keys are errors, so a typo never passes silently. Each section is parsed by its own
small function; to add a section, write `_parse_<name>(table, env)` and list it in `_SECTIONS`.

    [server]   host, port, graphiql, environment ("development" | "production"), csrf,
               cors_origins, tls_cert_file, tls_key_file
    [graphql]  max_first, default_first, operation_deadline_s (0 = none), cursor_key, federation
               (CROSSDOCK_CURSOR_KEY)
    [crm] [scm] each backend's connector options (resolvers.zoho.ZohoOptions,
               resolvers.erpnext.ERPNextOptions), see gateway.settings.backends
    [limits] [rate_limits] [trusted_documents]   see gateway.settings.hardening
    [subscriptions]   see gateway.settings.subscriptions;   [metrics]   see gateway.settings.metrics
    [inbound]  changes in from both systems (notifications, catch-up poll), gateway.settings.inbound
    [auth] [policy]   see gateway.settings.access;   [saga]   see gateway.settings.saga
    [reconcile]       see gateway.settings.reconcile (rules, schedule, repairs)
    [sync]            see gateway.settings.sync (inbox, processor, sync rules)
    [state]    shared state (PostgreSQL, Redis) for several workers, see gateway.settings.state
    [console]   see gateway.settings.console
    [tracing] [logging]   OpenTelemetry traces, JSON logs, see gateway.settings.observe
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.auth import AuthSettings
from gateway.protection.limits import LimitPolicy
from gateway.settings.access import (
    PolicySettings,
    check_production,
    parse_auth,
    parse_policy,
)
from gateway.settings.backends import parse_crm, parse_scm
from gateway.settings.console import ConsoleSettings, parse_console
from gateway.settings.hardening import (
    RateLimitSettings,
    TrustedDocumentSettings,
    parse_limits,
    parse_rate_limits,
    parse_trusted_documents,
)
from gateway.settings.inbound import InboundSettings, parse_inbound
from gateway.settings.metrics import MetricsSettings, parse_metrics
from gateway.settings.observe import (
    LoggingSettings,
    TracingSettings,
    parse_logging,
    parse_tracing,
)
from gateway.settings.reconcile import parse_reconcile
from gateway.settings.saga import missing_key_error, parse_saga
from gateway.settings.section import Section, Table
from gateway.settings.section import SettingsError as SettingsError
from gateway.settings.server import GRAPHIQL_CHOICES as GRAPHIQL_CHOICES
from gateway.settings.server import GraphiQL as GraphiQL
from gateway.settings.server import ServerSettings, parse_server
from gateway.settings.state import StateSettings, parse_state
from gateway.settings.subscriptions import SubscriptionSettings, parse_subscriptions
from gateway.settings.sync import SyncSettings, parse_sync
from gateway.settings.views import ViewSettings, parse_views
from resolvers.erpnext import ERPNextOptions
from resolvers.fxiaoke import FxiaokeOptions
from resolvers.reconcile.settings import ReconcileSettings
from resolvers.saga import SagaSettings
from resolvers.zoho import ZohoOptions
from schema.cursor_key import MIN_KEY_CHARS

CURSOR_KEY_ENV = "CROSSDOCK_CURSOR_KEY"


@dataclass(frozen=True)
class GraphQLSettings:
    """Connection paging: `first` defaults to `default_first` and may not exceed `max_first`;
    a query's backend calls end within `operation_deadline_s` (0: no operation deadline);
    cursors are signed with `cursor_key` (None: a random key per process, see schema.cursor_key);
    `federation` serves the graph as an Apollo Federation v2 subgraph (schema.federation)."""

    max_first: int = 200
    default_first: int = 20
    operation_deadline_s: float = 30.0
    cursor_key: str | None = field(default=None, repr=False)
    federation: bool = False


@dataclass(frozen=True)
class Settings:
    """Everything the gateway reads from configuration, validated once at startup."""

    crm: ZohoOptions | FxiaokeOptions  # [crm] kind picks the CRM
    scm: ERPNextOptions
    auth: AuthSettings
    server: ServerSettings = field(default_factory=ServerSettings)
    graphql: GraphQLSettings = field(default_factory=GraphQLSettings)
    policy: PolicySettings = field(default_factory=PolicySettings)
    saga: SagaSettings = field(default_factory=SagaSettings)
    limits: LimitPolicy = field(default_factory=lambda: parse_limits({}, {}))
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)
    trusted_documents: TrustedDocumentSettings = field(default_factory=TrustedDocumentSettings)
    views: ViewSettings = field(default_factory=ViewSettings)
    subscriptions: SubscriptionSettings = field(default_factory=SubscriptionSettings)
    reconcile: ReconcileSettings = field(default_factory=ReconcileSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    inbound: InboundSettings = field(default_factory=InboundSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    state: StateSettings = field(default_factory=StateSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    tracing: TracingSettings = field(default_factory=TracingSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)


def _parse_graphql(table: Table, env: Mapping[str, str]) -> GraphQLSettings:
    s = Section("graphql", table, env)
    result = GraphQLSettings(
        max_first=s.integer("max_first", 200, low=1),
        default_first=s.integer("default_first", 20, low=0),
        operation_deadline_s=s.number("operation_deadline_s", GraphQLSettings.operation_deadline_s),
        cursor_key=s.optional_text("cursor_key", env=CURSOR_KEY_ENV),
        federation=s.flag("federation", False),
    )
    s.check_unknown()
    if result.cursor_key is not None and len(result.cursor_key.encode()) < MIN_KEY_CHARS:
        raise SettingsError(
            f"graphql.cursor_key is shorter than {MIN_KEY_CHARS} characters (set "
            f"{CURSOR_KEY_ENV} or [graphql] cursor_key to a random string, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    if result.default_first > result.max_first:
        raise SettingsError(
            f"graphql.default_first ({result.default_first}) exceeds graphql.max_first "
            f"({result.max_first}); lower default_first or raise max_first"
        )
    return result


_SECTIONS: dict[str, Callable[[Table, Mapping[str, str]], Any]] = {
    "server": parse_server,
    "graphql": _parse_graphql,
    "crm": parse_crm,
    "scm": parse_scm,
    "policy": parse_policy,
    "saga": parse_saga,
    "limits": parse_limits,
    "rate_limits": parse_rate_limits,
    "trusted_documents": parse_trusted_documents,
    "views": parse_views,
    "subscriptions": parse_subscriptions,
    "reconcile": parse_reconcile,
    "sync": parse_sync,
    "inbound": parse_inbound,
    "metrics": parse_metrics,
    "state": parse_state,
    "console": parse_console,
    "tracing": parse_tracing,
    "logging": parse_logging,
}
_ALL_SECTIONS = (*_SECTIONS, "auth")


def parse_settings(
    document: Table, env: Mapping[str, str] | None = None, *, demo: bool = False
) -> Settings:
    """Settings from a parsed TOML document and an environment mapping (default: empty).

    `demo=True` is for `crossdock demo` only: it may verify tokens with the published secret."""
    environ = env or {}
    unknown = sorted(set(document) - set(_ALL_SECTIONS))
    if unknown:
        raise SettingsError(
            f"unknown section(s) {', '.join(f'[{name}]' for name in unknown)} "
            f"(known: {', '.join(_ALL_SECTIONS)})"
        )
    parsed: dict[str, Any] = {}
    for name, parse in _SECTIONS.items():
        if name == "inbound":  # what [inbound] may ask for depends on the CRM (Fxiaoke: no hooks)
            kind = "fxiaoke" if isinstance(parsed["crm"], FxiaokeOptions) else "zoho"
            parsed[name] = parse_inbound(_table(document, name), environ, crm_kind=kind)
            continue
        parsed[name] = parse(_table(document, name), environ)
    parsed["auth"] = parse_auth(_table(document, "auth"), environ, demo=demo)
    settings = Settings(**parsed)
    if settings.server.environment == "production":
        check_production(settings.auth)
        if settings.saga.missing_key:
            raise missing_key_error()
    return settings


def _table(document: Table, name: str) -> Table:
    table = document.get(name, {})
    if not isinstance(table, Mapping):
        raise SettingsError(f"{name} must be a table ([{name}])")
    return table


def load_settings(path: str | Path | None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from a TOML file (or none: environment only) plus `CROSSDOCK_*` overrides."""
    document: dict[str, Any] = {}
    if path is not None:
        try:
            document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    return parse_settings(document, env)
