"""The `[subscriptions]` section: GraphQL subscriptions over graphql-transport-ws and SSE.

[subscriptions]
enabled = true                    # the Subscription root and its two transports
max_connections_per_subject = 5   # open WebSocket connections + SSE streams per token subject
connection_init_timeout_s = 10    # a WebSocket must send connection_init within this
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.settings.section import Section, Table


@dataclass(frozen=True)
class SubscriptionSettings:
    """The `[subscriptions]` section, validated."""

    enabled: bool = True
    max_connections_per_subject: int = 5
    connection_init_timeout_s: int = 10


def parse_subscriptions(table: Table, env: Mapping[str, str]) -> SubscriptionSettings:
    s = Section("subscriptions", table, env)
    result = SubscriptionSettings(
        enabled=s.flag("enabled", True),
        max_connections_per_subject=s.integer("max_connections_per_subject", 5, low=1),
        connection_init_timeout_s=s.integer("connection_init_timeout_s", 10, low=1),
    )
    s.check_unknown()
    return result
