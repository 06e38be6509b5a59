"""`crossdock migrate` applies the PostgreSQL migrations once and says the version."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from resolvers.state.config import StateSettings
from resolvers.state.migrations import MIGRATIONS

pytestmark = pytest.mark.engines
CONFIG = (
    '[crm]\naccounts_url = "http://127.0.0.1:9"\nclient_id = "i"\nclient_secret = "s"\n'
    'refresh_token = "r"\n[scm]\nbase_url = "http://127.0.0.1:9"\napi_key = "k"\n'
    'api_secret = "s"\n'
)


def test_migrate_applies_then_finds_nothing_to_do(
    state_settings: StateSettings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    assert state_settings.postgres_url is not None
    assert state_settings.redis_url is not None
    monkeypatch.setenv("CROSSDOCK_POSTGRES_URL", state_settings.postgres_url)
    monkeypatch.setenv("CROSSDOCK_REDIS_URL", state_settings.redis_url)
    monkeypatch.setenv("CROSSDOCK_JWT_SECRET", "a-test-secret-that-is-long-enough-for-hs256")
    config = tmp_path / "crossdock.toml"
    config.write_text(CONFIG, encoding="utf-8")
    assert main(["migrate", "--config", str(config)]) == 0
    first = capsys.readouterr().out
    assert f"applied 1: {MIGRATIONS[0].name}" in first
    assert main(["migrate", "--config", str(config)]) == 0
    second = capsys.readouterr().out
    assert "applied" not in second
    assert f"at version {MIGRATIONS[-1].version}" in second


def test_migrate_without_postgres_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("CROSSDOCK_POSTGRES_URL", raising=False)
    monkeypatch.delenv("CROSSDOCK_REDIS_URL", raising=False)
    monkeypatch.setenv("CROSSDOCK_JWT_SECRET", "a-test-secret-that-is-long-enough-for-hs256")
    config = tmp_path / "crossdock.toml"
    config.write_text(CONFIG, encoding="utf-8")
    assert main(["migrate", "--config", str(config)]) == 2
    assert "set CROSSDOCK_POSTGRES_URL or [state] postgres_url" in capsys.readouterr().err
