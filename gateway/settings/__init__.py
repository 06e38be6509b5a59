"""One frozen Settings object: a TOML file, then `CROSSDOCK_*` environment overrides.

Read once at startup and validated up front. Every error names the key and the fix, e.g.
`crm.accounts_url is missing (set CROSSDOCK_CRM_ACCOUNTS_URL or [crm] accounts_url)`.
Unknown keys are errors, so a typo never passes silently. Each section is parsed by its own
small function; to add a section, write `_parse_<name>(table, env)` and list it in `_SECTIONS`.

    [server]   host, port, graphiql, environment ("development" | "production"), csrf,
               cors_origins, tls_cert_file, tls_key_file
    [graphql]  max_first, default_first, operation_deadline_s (0 = none), cursor_key
               (CROSSDOCK_CURSOR_KEY)
    [crm]      accounts_url, base_url, client_id, client_secret, refresh_token,
               default_currency, [crm.order_statuses], + transport knobs
    [scm]      base_url, api_key, api_secret, site_tz, currency, company, page_size,
               [scm.shipment_statuses], [scm.tracking_statuses], + transport knobs
    transport  connect_timeout_s, read_timeout_s, attempt_deadline_s (one try, whole response),
               retries (after the first try), backoff_s,
               backoff_max_s, retry_after_max_s, max_connections, ca_bundle, [.protection]
    [limits] [rate_limits] [trusted_documents]   see gateway.settings.hardening
    [subscriptions]   see gateway.settings.subscriptions
    [auth] [policy]   see gateway.settings.access;   [saga]   see gateway.settings.saga
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.auth import AuthSettings
from gateway.protection.limits import LimitPolicy
from gateway.settings.access import (
    PolicySettings,
    check_production,
    parse_auth,
    parse_policy,
)
from gateway.settings.hardening import (
    RateLimitSettings,
    TrustedDocumentSettings,
    parse_limits,
    parse_protection,
    parse_rate_limits,
    parse_trusted_documents,
)
from gateway.settings.saga import OrderProcessSettings, missing_key_error, parse_saga
from gateway.settings.section import Section, Table
from gateway.settings.section import SettingsError as SettingsError
from gateway.settings.server import GRAPHIQL_CHOICES as GRAPHIQL_CHOICES
from gateway.settings.server import GraphiQL as GraphiQL
from gateway.settings.server import ServerSettings, parse_server
from gateway.settings.subscriptions import SubscriptionSettings, parse_subscriptions
from gateway.settings.views import ViewSettings, parse_views
from resolvers.breaker import Protection
from resolvers.canonical import (
    DEFAULT_ORDER_STATUSES,
    DEFAULT_SHIPMENT_STATUSES,
    DEFAULT_TRACKING_STATUSES,
)
from resolvers.http import RetryPolicy, Timeouts
from resolvers.records import OrderStatus, ShipmentStatus
from schema.cursor_key import MIN_KEY_CHARS

CURSOR_KEY_ENV = "CROSSDOCK_CURSOR_KEY"


@dataclass(frozen=True)
class GraphQLSettings:
    """Connection paging: `first` defaults to `default_first` and may not exceed `max_first`;
    a query's backend calls end within `operation_deadline_s` (0: no operation deadline);
    cursors are signed with `cursor_key` (None: a random key per process, see schema.cursor_key)."""

    max_first: int = 200
    default_first: int = 20
    operation_deadline_s: float = 30.0
    cursor_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CrmSettings:
    """The Zoho CRM backend: OAuth client, API domain, transport knobs, picklist mapping."""

    accounts_url: str
    base_url: str | None
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_connections: int = 20
    ca_bundle: str | None = None
    protection: Protection = field(default_factory=Protection)
    default_currency: str = "USD"
    order_statuses: Mapping[str, OrderStatus] = field(
        default_factory=lambda: dict(DEFAULT_ORDER_STATUSES)
    )


@dataclass(frozen=True)
class ScmSettings:
    """The ERPNext backend: token auth, site time zone, transport knobs, status mappings."""

    base_url: str
    api_key: str
    api_secret: str = field(repr=False)
    site_tz: str = "Europe/Berlin"
    currency: str = "USD"
    company: str | None = None
    page_size: int = 500
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_connections: int = 20
    ca_bundle: str | None = None
    protection: Protection = field(default_factory=Protection)
    shipment_statuses: Mapping[str, ShipmentStatus] = field(
        default_factory=lambda: dict(DEFAULT_SHIPMENT_STATUSES)
    )
    tracking_statuses: Mapping[str, ShipmentStatus] = field(
        default_factory=lambda: dict(DEFAULT_TRACKING_STATUSES)
    )


@dataclass(frozen=True)
class Settings:
    """Everything the gateway reads from configuration, validated once at startup."""

    crm: CrmSettings
    scm: ScmSettings
    auth: AuthSettings
    server: ServerSettings = field(default_factory=ServerSettings)
    graphql: GraphQLSettings = field(default_factory=GraphQLSettings)
    policy: PolicySettings = field(default_factory=PolicySettings)
    saga: OrderProcessSettings = field(default_factory=OrderProcessSettings)
    limits: LimitPolicy = field(default_factory=lambda: parse_limits({}, {}))
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)
    trusted_documents: TrustedDocumentSettings = field(default_factory=TrustedDocumentSettings)
    views: ViewSettings = field(default_factory=ViewSettings)
    subscriptions: SubscriptionSettings = field(default_factory=SubscriptionSettings)


_Section = Section


def _timeouts(section: _Section) -> Timeouts:
    base = Timeouts()
    attempt = section.number("attempt_deadline_s", base.attempt)
    if attempt == 0:
        raise SettingsError(
            f"{section.name}.attempt_deadline_s must be more than 0: the seconds one backend "
            "call may take, connection, request and whole response (e.g. 15)"
        )
    return Timeouts(
        connect=section.number("connect_timeout_s", base.connect),
        read=section.number("read_timeout_s", base.read),
        attempt=attempt,
    )


def _retry(section: _Section) -> RetryPolicy:
    base = RetryPolicy()
    return RetryPolicy(
        attempts=section.integer("retries", base.attempts - 1) + 1,
        backoff_s=section.number("backoff_s", base.backoff_s),
        backoff_max_s=section.number("backoff_max_s", base.backoff_max_s),
        retry_after_max_s=section.number("retry_after_max_s", base.retry_after_max_s),
    )


def _enum_map(section: _Section, key: str, enum: type[Any], base: Table) -> dict[str, Any]:
    mapping = dict(base)
    for label, name in section.table_of(key).items():
        try:
            mapping[label] = enum[name]
        except KeyError:
            names = [member.name for member in enum]
            raise SettingsError(
                f"{section.name}.{key}.{label!r} must be one of {names}, got {name!r}"
            ) from None
    return mapping


def _parse_graphql(table: Table, env: Mapping[str, str]) -> GraphQLSettings:
    s = _Section("graphql", table, env)
    result = GraphQLSettings(
        max_first=s.integer("max_first", 200, low=1),
        default_first=s.integer("default_first", 20, low=0),
        operation_deadline_s=s.number("operation_deadline_s", GraphQLSettings.operation_deadline_s),
        cursor_key=s.optional_text("cursor_key", env=CURSOR_KEY_ENV),
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


def _parse_crm(table: Table, env: Mapping[str, str]) -> CrmSettings:
    s = _Section("crm", table, env)
    result = CrmSettings(
        accounts_url=s.text("accounts_url", env="CROSSDOCK_CRM_ACCOUNTS_URL"),
        base_url=s.optional_text("base_url", env="CROSSDOCK_CRM_URL"),
        client_id=s.text("client_id", env="CROSSDOCK_CRM_CLIENT_ID"),
        client_secret=s.text("client_secret", env="CROSSDOCK_CRM_CLIENT_SECRET"),
        refresh_token=s.text("refresh_token", env="CROSSDOCK_CRM_REFRESH_TOKEN"),
        timeouts=_timeouts(s),
        retry=_retry(s),
        max_connections=s.integer("max_connections", 20, low=1),
        ca_bundle=s.optional_text("ca_bundle", env="CROSSDOCK_CRM_CA_BUNDLE"),
        protection=parse_protection(s),
        default_currency=s.text("default_currency", "USD"),
        order_statuses=_enum_map(s, "order_statuses", OrderStatus, DEFAULT_ORDER_STATUSES),
    )
    s.check_unknown()
    return result


def _parse_scm(table: Table, env: Mapping[str, str]) -> ScmSettings:
    s = _Section("scm", table, env)
    site_tz = s.text("site_tz", "Europe/Berlin", env="CROSSDOCK_SCM_SITE_TZ")
    try:
        ZoneInfo(site_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"scm.site_tz {site_tz!r} is not an IANA time zone (e.g. 'Europe/Berlin')"
        ) from None
    shipments = _enum_map(s, "shipment_statuses", ShipmentStatus, DEFAULT_SHIPMENT_STATUSES)
    tracking = _enum_map(s, "tracking_statuses", ShipmentStatus, DEFAULT_TRACKING_STATUSES)
    result = ScmSettings(
        base_url=s.text("base_url", env="CROSSDOCK_SCM_URL"),
        api_key=s.text("api_key", env="CROSSDOCK_SCM_API_KEY"),
        api_secret=s.text("api_secret", env="CROSSDOCK_SCM_API_SECRET"),
        site_tz=site_tz,
        currency=s.text("currency", "USD"),
        company=s.optional_text("company"),
        page_size=s.integer("page_size", 500, low=1),
        timeouts=_timeouts(s),
        retry=_retry(s),
        max_connections=s.integer("max_connections", 20, low=1),
        ca_bundle=s.optional_text("ca_bundle", env="CROSSDOCK_SCM_CA_BUNDLE"),
        protection=parse_protection(s),
        shipment_statuses=shipments,
        tracking_statuses=tracking,
    )
    s.check_unknown()
    return result


_SECTIONS: dict[str, Callable[[Table, Mapping[str, str]], Any]] = {
    "server": parse_server,
    "graphql": _parse_graphql,
    "crm": _parse_crm,
    "scm": _parse_scm,
    "policy": parse_policy,
    "saga": parse_saga,
    "limits": parse_limits,
    "rate_limits": parse_rate_limits,
    "trusted_documents": parse_trusted_documents,
    "views": parse_views,
    "subscriptions": parse_subscriptions,
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
