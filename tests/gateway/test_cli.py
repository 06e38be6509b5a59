"""The `crossdock` command: token round trip, seeding, and the demo over real sockets."""

from __future__ import annotations

import dataclasses
import itertools
import os
import shlex
import stat
from pathlib import Path

import httpx
import pytest

from gateway.cli import main
from gateway.cli.demo import DEMO_ROLES, demo_running
from gateway.settings import Settings
from gateway.settings.access import parse_auth
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.support.stack import GATEWAY_URL

OTHER_SECRET = "another-teams-secret-0123456789-0123456789-xyz"


def mint_cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["token", *args]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # the token and nothing else
    token = out.strip()
    assert token.count(".") == 2
    return token


async def viewer(app_settings: Settings, crm: ZohoCRM, scm: ERPNext, token: str) -> httpx.Response:
    app = assemble(app_settings, crm=crm, scm=scm)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        return await http.post(
            "/graphql",
            json={"query": "{ viewer { subject roles partnerId scopes } }"},
            headers={"Authorization": f"Bearer {token}"},
        )


async def test_a_minted_token_is_accepted_by_a_gateway_on_the_demo_settings(
    settings: Settings,
    crm: ZohoCRM,
    scm: ERPNext,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CROSSDOCK_JWT_SECRET", raising=False)
    token = mint_cli(capsys, "--role", "partner", "--partner-id", "DHL", "--ttl", "1h")
    demo = dataclasses.replace(settings, auth=parse_auth({}, {}, demo=True))
    response = await viewer(demo, crm, scm, token)
    assert response.status_code == 200
    assert response.json()["data"]["viewer"] == {
        "subject": "dev-partner",
        "roles": ["partner"],
        "partnerId": "DHL",
        "scopes": ["address:read", "catalog:read", "shipments:read"],
    }
    scoped = mint_cli(capsys, "--scope", "stock:read", "--subject", "robot", "--ttl", "90s")
    body = (await viewer(demo, crm, scm, scoped)).json()["data"]["viewer"]
    assert (body["subject"], body["roles"], body["scopes"]) == ("robot", [], ["stock:read"])


async def test_a_token_minted_from_a_config_file_uses_that_files_secret(
    settings: Settings,
    crm: ZohoCRM,
    scm: ERPNext,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    config = tmp_path / "crossdock.toml"
    config.write_text(
        '[crm]\naccounts_url = "http://z"\nclient_id = "i"\nclient_secret = "s"\n'
        'refresh_token = "r"\n[scm]\nbase_url = "http://e"\napi_key = "k"\napi_secret = "s"\n'
        f'[auth]\nhs256_secret = "{OTHER_SECRET}"\n',
        encoding="utf-8",
    )
    token = mint_cli(capsys, "--role", "admin", "--config", str(config))
    theirs = dataclasses.replace(settings, auth=parse_auth({"hs256_secret": OTHER_SECRET}, {}))
    demo = dataclasses.replace(settings, auth=parse_auth({}, {}, demo=True))
    assert (await viewer(theirs, crm, scm, token)).status_code == 200
    refused = await viewer(demo, crm, scm, token)
    assert refused.status_code == 401
    assert 'error_description="bad signature"' in refused.headers["www-authenticate"]


def test_a_bad_ttl_is_a_usage_error_naming_the_forms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--role", "admin", "--ttl", "forever"]) == 2
    assert "use e.g. 90s, 15m, 1h or 7d" in capsys.readouterr().err


def test_seed_fills_an_empty_directory_once_and_reseeds_when_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["seed", "--scale", "0.02", "--data-dir", str(tmp_path)]
    assert main(args) == 0
    assert "seeded" in capsys.readouterr().out
    assert main(args) == 0
    assert "already holds data" in capsys.readouterr().out
    assert main([*args, "--force"]) == 0
    assert "seeded" in capsys.readouterr().out
    assert main(["seed", "--scale", "0", "--data-dir", str(tmp_path / "x")]) == 2


def _curl_request(command: str) -> tuple[str, dict[str, str], str]:
    """URL, headers and body of a printed curl command."""
    words = shlex.split(command)
    url = words[2]
    headers = dict(w.split(": ", 1) for prev, w in itertools.pairwise(words) if prev == "-H")
    body = words[words.index("-d") + 1]
    return url, headers, body


@pytest.mark.sockets
async def test_the_demo_serves_the_secure_gateway_and_its_printed_commands_work(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    async with demo_running(
        data_dir=tmp_path, scale=0.02, env=env, port=0, emulation_ports=(0, 0)
    ) as demo:
        assert demo.emulations.seeded is not None
        assert set(demo.tokens) == {role for role, _ in DEMO_ROLES}
        assert demo.url in demo.banner
        commands = [line.strip() for line in demo.banner.splitlines() if "curl " in line]
        assert len(commands) == 3
        async with httpx.AsyncClient(timeout=10) as http:
            for command in commands:
                url, headers, body = _curl_request(command)
                var = headers["Authorization"].removeprefix("Bearer $")
                headers["Authorization"] = (
                    f"Bearer {demo.tokens[var.removesuffix('_TOKEN').lower()]}"
                )
                answer = (await http.post(url, headers=headers, content=body)).json()
                assert "errors" not in answer, (command, answer)
                assert answer["data"], command
            page = await http.get(demo.url, headers={"Accept": "text/html"})
            anonymous = await http.post(demo.url, json={"query": "{ viewer { subject } }"})
            partner = await http.post(
                demo.url,
                json={"query": "{ viewer { partnerId } }"},
                headers={"Authorization": f"Bearer {demo.tokens['partner']}"},
            )
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    assert anonymous.status_code == 401
    assert partner.json() == {"data": {"viewer": {"partnerId": "DHL"}}}
    key = tmp_path / "journal.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    async with demo_running(
        data_dir=tmp_path, scale=0.02, env=env, port=0, emulation_ports=(0, 0)
    ) as again:
        assert again.emulations.seeded is None  # a restart keeps the data
