"""The `[crm]` section when `kind = "fxiaoke"`: parsed into `resolvers.fxiaoke.FxiaokeOptions`.

    [crm]
    kind = "fxiaoke"
    base_url = "https://open.fxiaoke.com"   # CROSSDOCK_CRM_URL (the tenant's cloud host)
    app_id = "FSAID_…"                      # CROSSDOCK_CRM_APP_ID
    app_secret = "…"                        # CROSSDOCK_CRM_APP_SECRET
    permanent_code = "…"                    # CROSSDOCK_CRM_PERMANENT_CODE
    auth = "legacy_body"                    # or "header": Bearer token + x-fs-ea/x-fs-userid
    open_user_id = "FSUID_…"                # CROSSDOCK_CRM_OPEN_USER_ID (legacy_body only)
    user_id = "1000"                        # CROSSDOCK_CRM_USER_ID: x-fs-userid (header only)
    daily_quota = 100000                    # the tenant's purchased calls per day
    calls_per_interface = 100               # per interface_window_s (20 s)
    quota_tz = "Asia/Shanghai"              # where the quota resets at 00:00
    [crm.fields]                            # the tenant's custom fields (field_…__c)
    order_status = "field_order_status__c"
    external_ref = "field_external_ref__c"
    credit_limit = "field_credit_limit__c"  # "" for none
    tax = "field_tax_amount__c"
    postcode = "field_postcode__c"
    [crm.order_statuses]                    # status option labels -> OrderStatus

plus the transport knobs and [crm.protection] of every backend (gateway.settings.backends).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.settings.hardening import parse_protection
from gateway.settings.section import Section, SettingsError
from resolvers.canonical import DEFAULT_ORDER_STATUSES
from resolvers.fxiaoke import FxiaokeOptions
from resolvers.fxiaoke.auth import GENERATIONS, Generation
from resolvers.http import RetryPolicy, Timeouts
from resolvers.records import OrderStatus
from resolvers.transport import HttpClient

_FIELDS = ("order_status", "external_ref", "credit_limit", "tax", "postcode")
# The defaults of every optional key (the four required ones are placeholders here).
_DEFAULTS = FxiaokeOptions(base_url="-", app_id="-", app_secret="", permanent_code="")


def parse_fxiaoke(
    s: Section,
    timeouts: Timeouts,
    retry: RetryPolicy,
    statuses: dict[str, OrderStatus],
    http_client: HttpClient,
) -> FxiaokeOptions:
    base = _DEFAULTS
    quota_tz = s.text("quota_tz", base.quota_tz)
    try:
        ZoneInfo(quota_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"crm.quota_tz {quota_tz!r} is not an IANA time zone (e.g. 'Asia/Shanghai')"
        ) from None
    fields = _fields(s)
    chosen = s.choice("auth", "legacy_body", GENERATIONS)
    auth: Generation = "header" if chosen == "header" else "legacy_body"
    result = FxiaokeOptions(
        base_url=s.text("base_url", env="CROSSDOCK_CRM_URL"),
        app_id=s.text("app_id", env="CROSSDOCK_CRM_APP_ID"),
        app_secret=s.text("app_secret", env="CROSSDOCK_CRM_APP_SECRET"),
        permanent_code=s.text("permanent_code", env="CROSSDOCK_CRM_PERMANENT_CODE"),
        open_user_id=_who(s, auth, "legacy_body", "open_user_id", "CROSSDOCK_CRM_OPEN_USER_ID"),
        auth=auth,
        user_id=_who(s, auth, "header", "user_id", "CROSSDOCK_CRM_USER_ID"),
        timeouts=timeouts,
        retry=retry,
        protection=parse_protection(s),
        max_connections=s.integer("max_connections", 20, low=1),
        ca_bundle=s.optional_text("ca_bundle", env="CROSSDOCK_CRM_CA_BUNDLE"),
        http_client=http_client,
        order_statuses=statuses or dict(DEFAULT_ORDER_STATUSES),
        default_currency=s.text("default_currency", "USD"),
        token_refresh_s=s.number("token_refresh_s", base.token_refresh_s),
        calls_per_interface=s.integer("calls_per_interface", base.calls_per_interface, low=1),
        interface_window_s=s.number("interface_window_s", base.interface_window_s),
        daily_quota=s.integer("daily_quota", base.daily_quota, low=1),
        quota_tz=quota_tz,
        order_status_field=fields["order_status"] or base.order_status_field,
        external_ref_field=fields["external_ref"] or base.external_ref_field,
        credit_limit_field=fields["credit_limit"],
        tax_field=fields["tax"],
        postcode_field=fields["postcode"],
    )
    s.check_unknown()
    return result


def _who(s: Section, auth: Generation, needs: Generation, key: str, env: str) -> str:
    """The user the calls act as: required by its own generation, refused by the other (the
    two generations must not be mixed; a key that does nothing would mislead)."""
    if auth == needs:
        return s.text(key, env=env)
    if key in s.table:
        raise SettingsError(
            f"crm.{key} is for crm.auth = {needs!r}, but crm.auth is {auth!r}: remove it "
            f"(with {auth!r} the calls act as crm."
            f"{'user_id' if key == 'open_user_id' else 'open_user_id'})"
        )
    return s.text(key, "", env=env)


def _fields(s: Section) -> dict[str, str | None]:
    base = _DEFAULTS
    defaults = {
        "order_status": base.order_status_field,
        "external_ref": base.external_ref_field,
        "credit_limit": base.credit_limit_field,
        "tax": base.tax_field,
        "postcode": base.postcode_field,
    }
    table = s.table_of("fields")
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        raise SettingsError(
            f"unknown key(s) in [crm.fields]: {', '.join(unknown)} (known: {', '.join(_FIELDS)})"
        )
    result: dict[str, str | None] = {}
    for key, default in defaults.items():
        value = table.get(key, default)
        if value is not None and not isinstance(value, str):
            raise SettingsError(f"crm.fields.{key} must be a field api name (a string)")
        result[key] = value or None
    for key in ("order_status", "external_ref"):
        if result[key] is None:
            raise SettingsError(
                f"crm.fields.{key} may not be empty: order reads and writes need it "
                f"(the demo tenant's is {defaults[key]!r})"
            )
    return result
