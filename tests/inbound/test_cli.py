"""`crossdock sync register` against both emulations over real sockets."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.serve import emulations_running
from gateway.cli import main
from gateway.cli.inbound import register
from gateway.settings import parse_settings
from tests.inbound.conftest import CHANNEL, ERP_SECRET, ZOHO_TOKEN


async def test_register_creates_then_finds_everything_in_place(tmp_path: Path) -> None:
    async with emulations_running(
        data_dir=tmp_path, zoho_port=0, erp_port=0, scale=0.02, env={}
    ) as running:
        settings = parse_settings(
            {
                "auth": {"hs256_secret": "x" * 40},
                "saga": {"enabled": False},
                "crm": {
                    "accounts_url": running.zoho_url,
                    "client_id": running.zoho.client_id,
                    "client_secret": running.zoho.client_secret,
                    "refresh_token": running.zoho.refresh_token,
                },
                "scm": {
                    "base_url": running.erp_url,
                    "api_key": running.erp.api_key,
                    "api_secret": running.erp.api_secret,
                },
                "inbound": {
                    "enabled": True,
                    "public_url": "http://127.0.0.1:9",
                    "zoho_channel_id": CHANNEL,
                    "zoho_token": ZOHO_TOKEN,
                    "erpnext_secret": ERP_SECRET,
                },
            }
        )
        first = await register(settings, force=False)
        second = await register(settings, force=False)
        forced = await register(settings, force=True)
    assert {o.action for o in first.outcomes} == {"created"}
    assert {o.action for o in second.outcomes} == {"unchanged"}
    assert {o.action for o in forced.outcomes} == {"updated"}
    assert first.lines()[0] == f"crm watch channel {CHANNEL}: created"


def test_register_with_inbound_off_names_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "crossdock.toml"
    config.write_text(
        '[auth]\nhs256_secret = "' + "x" * 40 + '"\n'
        '[crm]\naccounts_url = "http://zoho.test"\nclient_id = "c"\nclient_secret = "s"\n'
        'refresh_token = "r"\n'
        '[scm]\nbase_url = "http://erp.test"\napi_key = "k"\napi_secret = "s"\n'
    )
    assert main(["sync", "register", "--config", str(config)]) == 2
    assert "[inbound] enabled = true" in capsys.readouterr().err
