"""ZohoOptions: how to reach one Zoho CRM tenant and read its vocabulary.

The one configuration type of the Zoho connector: the gateway parses the `[crm]` settings
section straight into it (gateway.settings.backends), tests build it directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from resolvers.breaker import Protection
from resolvers.canonical import DEFAULT_ORDER_STATUSES
from resolvers.http import RetryPolicy, Timeouts
from resolvers.records import OrderStatus
from resolvers.transport import HttpClient


@dataclass(frozen=True)
class ZohoOptions:
    """How to reach one Zoho CRM tenant and read its vocabulary.

    `api_domain` (`[crm] base_url`) overrides the API domain the token response names.
    `order_statuses` maps the tenant's `Status` picklist onto the canonical enum, since every
    tenant names its values differently. The custom field names default to the demo tenant's.
    `max_connections` and `ca_bundle` size and verify the HTTP client the gateway builds for
    the connector (the connector itself takes a ready client).
    """

    accounts_url: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    api_domain: str | None = None
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
    credit_limit_field: str | None = "Credit_Limit"
    external_ref_field: str | None = "External_Ref"
