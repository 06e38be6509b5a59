"""`crossdock serve --workers N` / WEB_CONCURRENCY: more than one worker needs shared state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import worker_count
from gateway.settings import SettingsError, parse_settings
from tests.gateway.test_serve_secrets import CONFIG, free_port, serve

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def test_worker_count_comes_from_the_flag_then_web_concurrency() -> None:
    assert worker_count(None, {}) == 1
    assert worker_count(None, {"WEB_CONCURRENCY": "3"}) == 3
    assert worker_count(2, {"WEB_CONCURRENCY": "3"}) == 2


@pytest.mark.parametrize(("given", "env"), [(0, {}), (None, {"WEB_CONCURRENCY": "two"})])
def test_a_bad_worker_count_names_where_it_came_from(
    given: int | None, env: dict[str, str]
) -> None:
    with pytest.raises(SettingsError, match=r"--workers|WEB_CONCURRENCY"):
        worker_count(given, env)


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_two_workers_without_shared_state_refuse_to_start_naming_the_settings(
    tmp_path: Path, how: str
) -> None:
    config = tmp_path / "crossdock.toml"
    config.write_text(CONFIG, encoding="utf-8")
    env = {"CROSSDOCK_JWT_SECRET": SECRET}
    if how == "environment":
        result = serve(config, WEB_CONCURRENCY="2", **env)
    else:
        result = serve_with(config, ["--workers", "2"], env)
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip()
    assert "need shared state" in line
    assert "CROSSDOCK_POSTGRES_URL" in line
    assert "CROSSDOCK_REDIS_URL" in line
    assert "[state] postgres_url and redis_url" in line


def serve_with(
    config: Path, extra: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`crossdock serve` with `extra` arguments, as a process."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    command = [sys.executable, "-m", "gateway", "serve", "--config", str(config), *extra]
    return subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [*command, "--port", str(free_port())],
        env=environ | env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_state_settings_need_both_urls_or_neither() -> None:
    base = {
        "crm": {
            "accounts_url": "http://x",
            "client_id": "i",
            "client_secret": "s",
            "refresh_token": "r",
        },
        "scm": {"base_url": "http://x", "api_key": "k", "api_secret": "s"},
    }
    env = {"CROSSDOCK_JWT_SECRET": SECRET}
    assert not parse_settings(base, env).state.shared
    both = {"CROSSDOCK_POSTGRES_URL": "postgresql://db/x", "CROSSDOCK_REDIS_URL": "redis://r"}
    state = parse_settings(base, env | both).state
    assert state.shared
    assert "postgresql" not in repr(state)  # URLs may carry passwords
    with pytest.raises(SettingsError, match=r"state\.redis_url is missing.*CROSSDOCK_REDIS_URL"):
        parse_settings(base, env | {"CROSSDOCK_POSTGRES_URL": "postgresql://db/x"})
    with pytest.raises(SettingsError, match=r"state\.redis_url must start with redis://"):
        parse_settings(base, env | both | {"CROSSDOCK_REDIS_URL": "http://r"})
