"""The `[tracing]` and `[logging]` sections: OpenTelemetry traces and the log format.

[tracing]
enabled = false     # spans for operations and backend calls, `traceparent` to the backends
                    # (exporter, service name, sampler: the standard OTEL_* variables;
                    # OTEL_SDK_DISABLED=true turns tracing off whatever this says)

[logging]
format = "text"     # or "json": one JSON object a line, with request id, trace id, subject,
                    # operation, duration and status, the access line included
level = "INFO"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.settings.section import Section, Table

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class TracingSettings:
    """The `[tracing]` section: off by default (then no span is made and nothing is sent)."""

    enabled: bool = False


@dataclass(frozen=True)
class LoggingSettings:
    """The `[logging]` section: text (uvicorn's lines, as before) or JSON lines."""

    format: str = "text"
    level: str = "INFO"

    @property
    def json(self) -> bool:
        return self.format == "json"


def parse_tracing(table: Table, env: Mapping[str, str]) -> TracingSettings:
    s = Section("tracing", table, env)
    result = TracingSettings(enabled=s.flag("enabled", False))
    s.check_unknown()
    return result


def parse_logging(table: Table, env: Mapping[str, str]) -> LoggingSettings:
    s = Section("logging", table, env)
    result = LoggingSettings(
        format=s.choice("format", "text", LOG_FORMATS),
        level=s.choice("level", "INFO", LOG_LEVELS),
    )
    s.check_unknown()
    return result
