"""The `[metrics]` section: Prometheus metrics at `/metrics` (gateway.observe).

[metrics]
enabled = true            # serve /metrics (loopback always may scrape)
allow = ["10.0.0.0/8"]    # other addresses or networks that may scrape; others get 404
max_operations = 100      # distinct operation names counted; more fold into "other"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import ip_network

from gateway.settings.section import Section, SettingsError, Table


@dataclass(frozen=True)
class MetricsSettings:
    """The `[metrics]` section, validated."""

    enabled: bool = True
    allow: tuple[str, ...] = ()
    max_operations: int = 100


def parse_metrics(table: Table, env: Mapping[str, str]) -> MetricsSettings:
    s = Section("metrics", table, env)
    result = MetricsSettings(
        enabled=s.flag("enabled", True),
        allow=_networks(s.raw("allow")),
        max_operations=s.integer("max_operations", 100, low=1),
    )
    s.check_unknown()
    return result


def _networks(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(
            f'metrics.allow must be a list of addresses or networks, e.g. ["10.0.0.0/8"], '
            f"got {value!r}"
        )
    for entry in value:
        try:
            ip_network(entry, strict=False)
        except ValueError:
            raise SettingsError(
                f"metrics.allow: {entry!r} is not an IP address or network; "
                'write e.g. "10.1.2.3" or "10.0.0.0/8"'
            ) from None
    return tuple(value)
