"""Only `crossdock demo` may verify tokens with the published demo secret; `serve` refuses it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.auth.tokens import DEMO_SECRET
from gateway.cli import main

CONFIG = (
    '[crm]\naccounts_url = "http://127.0.0.1:9"\nclient_id = "i"\nclient_secret = "s"\n'
    'refresh_token = "r"\n[scm]\nbase_url = "http://127.0.0.1:9"\napi_key = "k"\n'
    'api_secret = "s"\n[saga]\nenabled = false\n[policy]\naudit_log = ""\n'
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`crossdock serve` as a process; one that starts listening is killed after 30 s."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    command = [sys.executable, "-m", "gateway", "serve", "--config", str(config)]
    return subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [*command, "--port", str(free_port())],
        env=environ | env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        # no key at all: development (the default) used to fall back to the demo secret
        ({}, "auth.hs256_secret is missing"),
        # the published secret given explicitly is refused too
        ({"CROSSDOCK_JWT_SECRET": DEMO_SECRET}, "auth.hs256_secret is the published demo secret"),
    ],
)
def test_serve_without_its_own_secret_refuses_to_start_in_one_line(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    config = tmp_path / "crossdock.toml"
    config.write_text(CONFIG, encoding="utf-8")
    result = serve(config, **env)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "set CROSSDOCK_JWT_SECRET or [auth] hs256_secret" in lines[0]
    assert DEMO_SECRET not in result.stderr


def test_token_refuses_a_lifetime_the_gateway_would_refuse(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CROSSDOCK_JWT_SECRET", raising=False)
    assert main(["token", "--role", "admin", "--ttl", "2d"]) == 2
    err = capsys.readouterr().err
    assert "--ttl 2d exceeds auth.max_token_lifetime_s (86400 s)" in err
