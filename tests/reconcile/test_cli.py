"""`crossdock reconcile` against emulations on loopback ports, configured by a file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from backends.serve import Emulations, emulations_running
from gateway.cli import main

pytestmark = pytest.mark.sockets


def config(running: Emulations, folder: Path) -> str:
    z, e = running.zoho, running.erp
    path = folder / "crossdock.toml"
    path.write_text(
        f'[crm]\naccounts_url = "{running.zoho_url}"\nclient_id = "{z.client_id}"\n'
        f'client_secret = "{z.client_secret}"\nrefresh_token = "{z.refresh_token}"\n'
        f'[scm]\nbase_url = "{running.erp_url}"\napi_key = "{e.api_key}"\n'
        f'api_secret = "{e.api_secret}"\n[saga]\nenabled = false\n'
        '[auth]\nhs256_secret = "a-test-secret-that-is-long-enough-0000000"\n'
    )
    return str(path)


async def test_the_cli_lists_the_seeded_mismatches_and_fails_on_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with emulations_running(
        data_dir=tmp_path, zoho_port=0, erp_port=0, scale=0.05
    ) as running:
        path = config(running, tmp_path)
        status = await asyncio.to_thread(main, ["reconcile", "--config", path, "--json"])
        printed = json.loads(capsys.readouterr().out)
        only = ["reconcile", "--config", path, "--category", "customer_without_account"]
        warned = await asyncio.to_thread(main, [*only, "--fail-on", "warning"])
        lines = capsys.readouterr().out
        passed = await asyncio.to_thread(main, only)
        fix = ["reconcile", "--config", path, "--fix", "product_without_item"]
        dry = await asyncio.to_thread(main, fix)
        dry_lines = capsys.readouterr().out
        applied = await asyncio.to_thread(main, [*fix, "--apply", "--json"])
        after = json.loads(capsys.readouterr().out)
    assert status == 1  # errors remain (a product without item, a shipment for a cancel)
    categories = sorted(f["category"] for f in printed["findings"])
    assert categories == [
        "customer_without_account",
        "product_without_item",
        "shipment_for_cancelled_order",
    ]
    assert warned == 1
    assert "Lost Horizon Imports Ltd" in lines
    assert "1 finding(s)" in lines
    assert passed == 0  # only a warning remains: below the default --fail-on error
    assert dry == 1  # a dry run repairs nothing: the error remains
    assert "repair  would create: ERP item SKU-00999" in dry_lines
    assert [r["outcome"] for r in after["repairs"]] == ["created"]
    remaining = sorted(f["category"] for f in after["findings"])
    assert remaining == ["customer_without_account", "shipment_for_cancelled_order"]
    assert applied == 1  # the shipment for a cancelled order needs people
