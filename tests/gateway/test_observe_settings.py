"""`[tracing]` and `[logging]`: off and text by default, typos and bad values refused with the
key named."""

from __future__ import annotations

import re

import pytest

from gateway.observe.tracing import open_tracing
from gateway.settings import SettingsError, parse_settings
from gateway.settings.observe import TracingSettings
from tests.gateway.test_settings import minimal


def test_tracing_is_off_and_logs_are_text_by_default() -> None:
    settings = parse_settings(minimal())
    assert settings.tracing.enabled is False
    assert settings.logging.format == "text"
    assert settings.logging.json is False


def test_the_sections_are_read() -> None:
    document = minimal(tracing={"enabled": True}, logging={"format": "json", "level": "DEBUG"})
    settings = parse_settings(document)
    assert settings.tracing.enabled is True
    assert settings.logging.json is True
    assert settings.logging.level == "DEBUG"


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"tracing": {"enabled": "yes"}}, "tracing.enabled must be true or false"),
        ({"tracing": {"exporter": "otlp"}}, "exporter"),  # OTEL_TRACES_EXPORTER, not a key
        ({"logging": {"format": "xml"}}, "logging.format must be one of ['text', 'json']"),
        ({"logging": {"level": "LOUD"}}, "logging.level must be one of"),
    ],
)
def test_bad_values_are_refused_with_the_key_named(
    sections: dict[str, dict[str, object]], message: str
) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        parse_settings(minimal(**sections))


def test_an_unknown_exporter_names_the_ones_there_are() -> None:
    with pytest.raises(SettingsError, match="OTEL_TRACES_EXPORTER='zipkin' is not supported"):
        open_tracing(TracingSettings(enabled=True), {"OTEL_TRACES_EXPORTER": "zipkin"})
