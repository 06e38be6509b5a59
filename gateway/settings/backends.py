"""The `[crm]` and `[scm]` sections, parsed straight into each connector's options.

[crm] kind = "zoho" (the default) | "fxiaoke"; fxiaoke's keys: gateway.settings.fxiaoke
[crm] (Zoho CRM) becomes `resolvers.zoho.ZohoOptions`:
    accounts_url (CROSSDOCK_CRM_ACCOUNTS_URL), base_url (CROSSDOCK_CRM_URL, the API domain),
    client_id, client_secret, refresh_token (CROSSDOCK_CRM_CLIENT_ID / _CLIENT_SECRET /
    _REFRESH_TOKEN), default_currency, [crm.order_statuses], + transport knobs
[scm] (ERPNext) becomes `resolvers.erpnext.ERPNextOptions`:
    base_url (CROSSDOCK_SCM_URL), api_key, api_secret (CROSSDOCK_SCM_API_KEY / _API_SECRET),
    site_tz (CROSSDOCK_SCM_SITE_TZ), currency, company, page_size,
    [scm.shipment_statuses], [scm.tracking_statuses], + transport knobs
transport knobs (both):
    connect_timeout_s, read_timeout_s, attempt_deadline_s (one try, whole response),
    retries (after the first try), backoff_s, backoff_max_s, retry_after_max_s,
    max_connections, ca_bundle (CROSSDOCK_CRM_CA_BUNDLE / CROSSDOCK_SCM_CA_BUNDLE),
    http_client ("aiohttp", the default, or "httpx"),
    [.protection] (see gateway.settings.hardening)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.settings.hardening import parse_protection
from gateway.settings.section import Section, SettingsError, Table
from resolvers.canonical import (
    DEFAULT_ORDER_STATUSES,
    DEFAULT_SHIPMENT_STATUSES,
    DEFAULT_TRACKING_STATUSES,
)
from resolvers.erpnext import ERPNextOptions
from resolvers.fxiaoke import FxiaokeOptions
from resolvers.http import RetryPolicy, Timeouts
from resolvers.records import OrderStatus, ShipmentStatus
from resolvers.transport import HTTP_CLIENTS, HttpClient
from resolvers.zoho import ZohoOptions

CRM_KINDS = ("zoho", "fxiaoke")
CrmOptions = ZohoOptions | FxiaokeOptions


def parse_crm(table: Table, env: Mapping[str, str]) -> CrmOptions:
    """The `[crm]` section: `kind` picks the CRM (zoho, the default, or fxiaoke), then that
    CRM's own keys (Zoho: OAuth client, API domain, transport and picklist)."""
    s = Section("crm", table, env)
    if s.choice("kind", "zoho", CRM_KINDS) == "fxiaoke":
        from gateway.settings.fxiaoke import parse_fxiaoke  # it reuses this module's parsers

        statuses = _enum_map(s, "order_statuses", OrderStatus, DEFAULT_ORDER_STATUSES)
        return parse_fxiaoke(s, _timeouts(s), _retry(s), statuses, parse_http_client(s))
    result = ZohoOptions(
        accounts_url=s.text("accounts_url", env="CROSSDOCK_CRM_ACCOUNTS_URL"),
        api_domain=s.optional_text("base_url", env="CROSSDOCK_CRM_URL"),
        client_id=s.text("client_id", env="CROSSDOCK_CRM_CLIENT_ID"),
        client_secret=s.text("client_secret", env="CROSSDOCK_CRM_CLIENT_SECRET"),
        refresh_token=s.text("refresh_token", env="CROSSDOCK_CRM_REFRESH_TOKEN"),
        timeouts=_timeouts(s),
        retry=_retry(s),
        max_connections=s.integer("max_connections", 20, low=1),
        ca_bundle=s.optional_text("ca_bundle", env="CROSSDOCK_CRM_CA_BUNDLE"),
        http_client=parse_http_client(s),
        protection=parse_protection(s),
        default_currency=s.text("default_currency", "USD"),
        order_statuses=_enum_map(s, "order_statuses", OrderStatus, DEFAULT_ORDER_STATUSES),
    )
    s.check_unknown()
    return result


def parse_scm(table: Table, env: Mapping[str, str]) -> ERPNextOptions:
    """The `[scm]` section: ERPNext's token auth, site time zone, transport and statuses."""
    s = Section("scm", table, env)
    site_tz = s.text("site_tz", "Europe/Berlin", env="CROSSDOCK_SCM_SITE_TZ")
    try:
        ZoneInfo(site_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"scm.site_tz {site_tz!r} is not an IANA time zone (e.g. 'Europe/Berlin')"
        ) from None
    shipments = _enum_map(s, "shipment_statuses", ShipmentStatus, DEFAULT_SHIPMENT_STATUSES)
    tracking = _enum_map(s, "tracking_statuses", ShipmentStatus, DEFAULT_TRACKING_STATUSES)
    result = ERPNextOptions(
        base_url=s.text("base_url", env="CROSSDOCK_SCM_URL"),
        api_key=s.text("api_key", env="CROSSDOCK_SCM_API_KEY"),
        api_secret=s.text("api_secret", env="CROSSDOCK_SCM_API_SECRET"),
        site_tz=site_tz,
        company_currency=s.text("currency", "USD"),
        company=s.optional_text("company"),
        item_group=s.text("item_group", "Products"),
        page_size=s.integer("page_size", 500, low=1),
        timeouts=_timeouts(s),
        retry=_retry(s),
        max_connections=s.integer("max_connections", 20, low=1),
        ca_bundle=s.optional_text("ca_bundle", env="CROSSDOCK_SCM_CA_BUNDLE"),
        http_client=parse_http_client(s),
        protection=parse_protection(s),
        shipment_statuses=shipments,
        tracking_statuses=tracking,
    )
    s.check_unknown()
    return result


def parse_http_client(section: Section) -> HttpClient:
    """`http_client`: the library the gateway sends this backend's requests with. aiohttp
    (the default) costs about a fifth of httpx's CPU per call; httpx is the fallback should
    a proxy or server get along with one and not the other (docs/performance.md)."""
    chosen = section.choice("http_client", "aiohttp", HTTP_CLIENTS)
    return "httpx" if chosen == "httpx" else "aiohttp"


def _timeouts(section: Section) -> Timeouts:
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


def _retry(section: Section) -> RetryPolicy:
    base = RetryPolicy()
    return RetryPolicy(
        attempts=section.integer("retries", base.attempts - 1) + 1,
        backoff_s=section.number("backoff_s", base.backoff_s),
        backoff_max_s=section.number("backoff_max_s", base.backoff_max_s),
        retry_after_max_s=section.number("retry_after_max_s", base.retry_after_max_s),
    )


def _enum_map(section: Section, key: str, enum: type[Any], base: Table) -> dict[str, Any]:
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
