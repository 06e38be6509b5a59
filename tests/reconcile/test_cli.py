"""`crossdock reconcile` against emulations served on loopback, with a deployment's --config.

The CLI runs in a worker thread (it starts its own event loop) while the test's loop serves
the rig's emulations, so planted data and request counts are the rig's."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backends.fxiaoke.app import FxiaokeSettings
from backends.serve import serving
from gateway.cli import main
from gateway.cli.reconcile import Progress, reconcile_settings
from resolvers.fxiaoke import FxiaokeOptions
from resolvers.ports import CRM_CANCELLED
from resolvers.reconcile import Category
from resolvers.reconcile.engine import planned_stages
from resolvers.reconcile.store import ReconcileStore
from resolvers.saga import Sealer
from tests.support.reconcile import Rig
from tests.support.stack import JOURNAL_KEY, JWT_SECRET

Run = tuple[int, str, str]


@pytest.fixture
async def config(rig: Rig, tmp_path: Path) -> AsyncIterator[Path]:
    """A deployment's settings file naming the rig's emulations, served on loopback."""
    async with (
        serving(rig.zoho.app, "127.0.0.1", 0) as zoho_port,
        serving(rig.erp.app, "127.0.0.1", 0) as erp_port,
    ):
        path = tmp_path / "crossdock.toml"
        path.write_text(
            f"""
[auth]
hs256_secret = "{JWT_SECRET}"
{crm_section(rig, zoho_port)}
[scm]
base_url = "http://127.0.0.1:{erp_port}"
api_key = "crossdock-demo"
api_secret = "crossdock-demo-secret"
[saga]
journal_path = "{tmp_path / "orders.sqlite"}"
journal_key = "{JOURNAL_KEY}"
[reconcile]
store_path = "{tmp_path / "cli-reconcile.sqlite"}"
"""
        )
        yield path


def crm_section(rig: Rig, port: int) -> str:
    """The [crm] of the rig's CRM: Zoho's, or Fxiaoke's (the demo tenant's credentials)."""
    if rig.fxiaoke:
        f = FxiaokeSettings()
        return f"""[crm]
kind = "fxiaoke"
base_url = "http://127.0.0.1:{port}"
app_id = "{f.app_id}"
app_secret = "{f.app_secret}"
permanent_code = "{f.permanent_code}"
open_user_id = "{f.open_user_id}"
daily_quota = 1000000000
calls_per_interface = 1000000000"""
    return "\n".join(
        (
            "[crm]",
            f'accounts_url = "http://127.0.0.1:{port}"',
            f'base_url = "http://127.0.0.1:{port}"',
            'client_id = "crossdock-demo"',
            'client_secret = "crossdock-demo-secret"',
            'refresh_token = "crossdock-demo-refresh"',
        )
    )


async def reconcile(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Run:
    status = await asyncio.to_thread(main, ["reconcile", "--config", str(config), *args])
    out, err = capsys.readouterr()
    return status, out, err


async def test_the_seeded_data_shows_three_findings_and_exits_1(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = await reconcile(capsys, config)

    assert status == 1
    assert out.count("\n        records: ") == 3
    assert "3 finding(s): 2 error, 1 warning, 0 info" in out
    assert "backend calls" in out
    assert "peak RSS" in out
    assert "reconcile: crm orders" in err  # plain progress lines: stderr is no terminal
    assert "\r" not in err


async def test_json_lists_every_finding_with_its_records(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = await reconcile(capsys, config, "--json", "--category", "counterparts")

    assert status == 1
    body = json.loads(out)
    assert body["counts"] == {"error": 1, "warning": 1, "info": 0}
    assert {f["rule"] for f in body["findings"]} == {
        "counterparts.product_without_item",
        "counterparts.customer_without_account",
    }
    product = next(f for f in body["findings"] if "SKU-00999" in f["id"])
    assert product["category"] == "product_without_item"
    assert product["group"] == "counterparts"
    assert product["crm"] == {"product": "SKU-00999"}
    assert product["erp"] == {}
    assert product["values"] == {"crm.item": "SKU-00999"}
    assert product["fixable"] is True
    [record] = product["records"]
    assert record == {
        "system": "crm",
        "kind": "product",
        "id": "SKU-00999",
        "label": "Legacy Pallet Jack M999",
    }
    assert (
        body["backend_calls"]["total"]
        == body["backend_calls"]["crm"] + body["backend_calls"]["erp"]
    )


async def test_the_exit_status_counts_findings_at_fail_on_or_worse(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    only = ("--category", "customer_without_account")
    warned, out, _ = await reconcile(capsys, config, *only, "--fail-on", "warning")
    passed, _, _ = await reconcile(capsys, config, *only)  # --fail-on error by default

    assert warned == 1
    assert "Lost Horizon Imports Ltd" in out
    assert "1 finding(s)" in out
    assert passed == 0  # only a warning remains


async def test_the_seeded_missing_item_is_created_by_fix_and_a_dry_run_is_the_default(
    rig: Rig, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = rig.writes()
    dry, out, _ = await reconcile(capsys, config, "--fix", "product_without_item")
    assert rig.writes() == before
    applied, printed, _ = await reconcile(
        capsys, config, "--fix", "product_without_item", "--apply", "--json"
    )
    again, _, _ = await reconcile(capsys, config, "--category", "product_without_item")

    assert dry == 1  # a dry run repairs nothing: the error remains
    assert "create item SKU-00999: item_code None → SKU-00999" in out
    body = json.loads(printed)
    assert [(r["finding"], r["status"]) for r in body["repairs"]] == [
        ("counterparts.product_without_item:SKU-00999", "applied")
    ]
    assert applied == 1  # the shipment for a cancelled order needs people
    assert again == 0
    item = await rig.scm.get_items(["SKU-00999"])
    assert item["SKU-00999"].name == "Legacy Pallet Jack M999"


async def test_fix_dry_run_writes_nothing_and_apply_repairs_and_journals(
    rig: Rig, config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    order, mirror = await rig.unshipped_approved()
    await rig.crm.set_order_status(order.id, CRM_CANCELLED)
    before = rig.writes()

    status, out, _ = await reconcile(capsys, config, "--fix", "mirrors", "--dry-run")
    assert status == 1
    assert f"cancel sales_order {mirror.name}: docstatus submitted → cancelled" in out
    assert rig.writes() == before
    status, out, _ = await reconcile(capsys, config, "--category", "mirrors", "--fix", "mirrors")

    assert status == 1
    assert f"cancel sales_order {mirror.name}: docstatus submitted → cancelled" in out
    assert rig.writes() == before
    status, out, _ = await reconcile(
        capsys,
        config,
        *("--category", "mirrors", "--fix", "mirrors", "--apply", "--actor", "ops@example.com"),
    )
    assert status == 0
    assert f"applied     mirrors.live_mirror_of_cancelled_order:{order.id}" in out
    assert rig.writes() > before
    status, out, _ = await reconcile(capsys, config, "--category", "mirrors")
    assert status == 0
    assert "0 finding(s)" in out
    store = ReconcileStore(tmp_path / "cli-reconcile.sqlite", Sealer.from_base64(JOURNAL_KEY))
    [repair] = store.repairs()
    store.close()
    assert repair.actor == "ops@example.com"
    assert repair.status == "applied"
    [action] = repair.detail["actions"]
    assert action["before"] == {"docstatus": "submitted"}
    assert action["after"] == {"docstatus": "cancelled"}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--apply"], "go with --fix"),  # a mode without --fix
        (["--dry-run"], "go with --fix"),
    ],
)
async def test_usage_mistakes_are_one_line_and_status_2(
    config: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    status, _, err = await reconcile(capsys, config, *args)

    assert status == 2
    assert says in err
    assert err.count("\n") == 1


async def test_an_unreachable_backend_is_status_2_naming_it(
    config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = await asyncio.to_thread(config.read_text)
    start = text.index('base_url = "http://127.0.0.1:', text.index("[scm]"))
    broken = tmp_path / "broken.toml"
    broken.write_text(
        text[:start] + 'base_url = "http://127.0.0.1:9"' + text[text.index("\n", start) :]
    )

    status, _, err = await reconcile(capsys, broken)

    assert status == 2
    assert "ERPNext could not be reached" in err.splitlines()[-1]


class Terminal(io.StringIO):
    """What stderr is when a person watches: a terminal."""

    def isatty(self) -> bool:
        return True


def test_on_a_terminal_progress_is_one_bar_redrawn_over_the_planned_stages() -> None:
    screen = Terminal()
    progress = Progress(screen, planned_stages([Category.MIRRORS]))

    progress("crm orders", 200)
    progress("crm orders", 400)
    progress("erp sales orders", 200)
    progress.done(1)

    frames = screen.getvalue().split("\r\x1b[K")
    assert frames[1:4] == [
        "[---------------------] 1/2 crm orders 200",
        "[---------------------] 1/2 crm orders 400",
        "[##########-----------] 2/2 erp sales orders 200",
    ]
    assert frames[-1] == "reconcile: done, 1 finding(s)\n"
    assert "\n" not in "".join(frames[:-1])


def test_every_category_plans_every_stage_in_order() -> None:
    assert planned_stages() == [
        "crm accounts",
        "erp customers",
        "crm products",
        "crm orders",
        "erp sales orders",
        "erp shipments",
        "erp items",
        "order processes",
    ]
    assert planned_stages([Category.SHIPMENTS]) == ["crm orders", "erp shipments"]
    assert planned_stages(["product_without_item"]) == planned_stages([Category.COUNTERPARTS])


def test_without_config_crm_fxiaoke_reads_the_fxiaoke_demo(tmp_path: Path) -> None:
    """`crossdock reconcile --crm fxiaoke`: the running Fxiaoke demo's port and data dir."""
    args = argparse.Namespace(config=None, data_dir=str(tmp_path), crm="fxiaoke")
    env = {"CROSSDOCK_FXIAOKE_PORT": "23456", "CROSSDOCK_ERP_PORT": "23457"}
    settings = reconcile_settings(args, env)
    assert isinstance(settings.crm, FxiaokeOptions)
    assert settings.crm.base_url == "http://127.0.0.1:23456"
    assert settings.scm.base_url == "http://127.0.0.1:23457"
    assert Path(settings.reconcile.store_path).parent == tmp_path / "fxiaoke"
