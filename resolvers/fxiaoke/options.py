"""FxiaokeOptions: how to reach one Fxiaoke tenant, its limits, and its vocabulary.

The gateway parses `[crm]` with `kind = "fxiaoke"` into it (gateway.settings.fxiaoke); tests
build it directly. The custom field names default to the demo tenant's (`field_…__c`); the
connector checks them against `object/describe` before its first order read or write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from resolvers.breaker import Protection
from resolvers.canonical import DEFAULT_ORDER_STATUSES
from resolvers.fxiaoke.auth import Generation
from resolvers.http import RetryPolicy, Timeouts
from resolvers.records import OrderStatus
from resolvers.transport import HttpClient


@dataclass(frozen=True)
class FxiaokeOptions:
    """How to reach one Fxiaoke tenant (either generation of its auth) and read its data.

    `order_statuses` maps the labels of the order-status field's options onto the canonical
    enum (the field carries option values; describe gives their labels). The limits mirror
    the tenant's: `calls_per_interface` per `interface_window_s` for each `/cgi` path, and a
    `daily_quota` that resets at 00:00 in `quota_tz`.
    """

    base_url: str
    app_id: str
    app_secret: str = field(repr=False)
    permanent_code: str = field(repr=False)
    open_user_id: str = "FSUID_CROSSDOCK_ADMIN"  # currentOpenUserId (legacy_body)
    # "legacy_body" (corpAccessToken in the body) or "header" (Bearer + x-fs-ea/x-fs-userid)
    auth: Generation = "legacy_body"
    user_id: str = ""  # x-fs-userid: the CRM employee id the calls act as (header)
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    protection: Protection = field(default_factory=Protection)
    max_connections: int = 20
    ca_bundle: str | None = None
    http_client: HttpClient = "aiohttp"  # or "httpx" (gateway.wiring.backend_transport)
    order_statuses: Mapping[str, OrderStatus] = field(
        default_factory=lambda: dict(DEFAULT_ORDER_STATUSES)
    )
    default_currency: str = "USD"
    token_refresh_s: float = 6600.0
    calls_per_interface: int = 100
    interface_window_s: float = 20.0
    daily_quota: int = 100_000
    quota_tz: str = "Asia/Shanghai"
    order_status_field: str = "field_order_status__c"
    external_ref_field: str = "field_external_ref__c"
    credit_limit_field: str | None = "field_credit_limit__c"
    tax_field: str | None = "field_tax_amount__c"
    postcode_field: str | None = "field_postcode__c"
