"""ERPNextOptions: how to reach one ERPNext site and read its vocabulary.

The one configuration type of the ERPNext connector: the gateway parses the `[scm]` settings
section straight into it (gateway.settings.backends), tests build it directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from resolvers.breaker import Protection
from resolvers.canonical import DEFAULT_SHIPMENT_STATUSES, DEFAULT_TRACKING_STATUSES
from resolvers.http import RetryPolicy, Timeouts
from resolvers.records import ShipmentStatus
from resolvers.transport import HttpClient


@dataclass(frozen=True)
class ERPNextOptions:
    """How to reach one ERPNext site and read its vocabulary (site time zone, statuses).

    `company_currency` is `[scm] currency`. `max_connections` and `ca_bundle` size and verify
    the HTTP client the gateway builds for the connector (the connector takes a ready client).
    """

    base_url: str
    api_key: str
    api_secret: str = field(repr=False)
    site_tz: str = "Europe/Berlin"
    company_currency: str = "USD"
    company: str | None = None
    item_group: str = "Products"  # where an item created from a CRM product goes
    page_size: int = 500
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    protection: Protection = field(default_factory=Protection)
    max_connections: int = 20
    ca_bundle: str | None = None
    http_client: HttpClient = "aiohttp"  # or "httpx" (gateway.wiring.backend_transport)
    shipment_statuses: Mapping[str, ShipmentStatus] = field(
        default_factory=lambda: dict(DEFAULT_SHIPMENT_STATUSES)
    )
    tracking_statuses: Mapping[str, ShipmentStatus] = field(
        default_factory=lambda: dict(DEFAULT_TRACKING_STATUSES)
    )
