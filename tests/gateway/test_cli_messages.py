"""What the `crossdock` command says when something is off: one line naming the problem and
the fix, exit status 2, never a traceback (issue 15's first-run cases)."""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.serve import PortInUse, ensure_free
from gateway.cli import main, prepare_directories
from gateway.settings import load_settings
from resolvers.saga.journal import Journal
from resolvers.saga.sealing import Sealer

SECRET = "a-production-secret-for-this-test-0123456789"
EXAMPLE = Path(__file__).resolve().parents[2] / "crossdock.example.toml"


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port some other process (here: this test) listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("CROSSDOCK_")]:
        monkeypatch.delenv(key)


# --- serve: the directories the configuration names ---------------------------------------


def test_serve_creates_the_directories_the_example_configuration_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean_env(monkeypatch)
    monkeypatch.chdir(tmp_path)  # a fresh clone: no var/
    env = {"CROSSDOCK_JOURNAL_KEY": Sealer.generate_key(), "CROSSDOCK_JWT_SECRET": SECRET}
    settings = load_settings(str(EXAMPLE), env)
    assert prepare_directories(settings) == [Path("var")]
    journal = Journal(settings.saga.journal_path, Sealer.from_base64(Sealer.generate_key()))
    journal.close()
    assert (tmp_path / "var" / "orders.sqlite").exists()
    assert prepare_directories(settings) == []  # there now


def test_serve_names_the_setting_whose_directory_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _clean_env(monkeypatch)
    (tmp_path / "var").write_text("a file where a directory should be", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CROSSDOCK_JOURNAL_KEY", Sealer.generate_key())
    monkeypatch.setenv("CROSSDOCK_JOURNAL_PATH", "var/state/orders.sqlite")
    monkeypatch.setenv("CROSSDOCK_JWT_SECRET", SECRET)
    thresholds = gc.get_threshold()  # serve tunes the collector for the process it runs in
    try:
        assert main(["serve", "--config", str(EXAMPLE)]) == 2
    finally:
        gc.set_threshold(*thresholds)
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("crossdock: configuration error: saga.journal_path var/state/")
    assert "cannot create its directory var/state" in line
    assert "create it or point the setting elsewhere" in line


# --- demo: a port already taken ---------------------------------------------------------


def test_ensure_free_refuses_a_taken_port_and_names_the_variable(busy_port: int) -> None:
    with pytest.raises(PortInUse) as caught:
        ensure_free("127.0.0.1", busy_port)
    assert str(caught.value.named("CROSSDOCK_PORT")) == (
        f"port {busy_port} on 127.0.0.1 is already in use (another crossdock demo?); "
        "stop it or set CROSSDOCK_PORT to a free port"
    )
    ensure_free("127.0.0.1", 0)  # any free port: nothing to check


@pytest.mark.sockets
@pytest.mark.parametrize(
    "variable", ["CROSSDOCK_ZOHO_PORT", "CROSSDOCK_ERP_PORT", "CROSSDOCK_PORT"]
)
def test_a_second_demo_says_in_one_line_which_port_is_taken_and_what_moves_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    busy_port: int,
    variable: str,
) -> None:
    _clean_env(monkeypatch)
    for key in ("CROSSDOCK_ZOHO_PORT", "CROSSDOCK_ERP_PORT", "CROSSDOCK_PORT"):
        monkeypatch.setenv(key, "0")
    monkeypatch.setenv(variable, str(busy_port))
    assert main(["demo", "--data-dir", str(tmp_path), "--scale", "0.02"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line == (
        f"crossdock demo: port {busy_port} on 127.0.0.1 is already in use (another crossdock "
        f"demo?); stop it or set {variable} to a free port"
    )


# --- token: tokens the policy would give nothing ----------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--role", "salse"],
            "crossdock token: unknown role 'salse': the policy's roles are admin, analyst, "
            "data_steward, logistics, partner, router, sales (--force mints it anyway)",
        ),
        (
            ["--role", "partner"],
            "crossdock token: --role partner needs --partner-id: its rows are filtered by "
            "Shipment.carrier = the token's 'partner_id' claim, so without it the token reads "
            "no rows (--force mints it anyway)",
        ),
        (["--scope", "crm:raed"], "crossdock token: unknown scope 'crm:raed': the policy's"),
        ([], "crossdock token: no --role and no --scope: the token could read nothing"),
    ],
)
def test_a_useless_token_is_refused_naming_why(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _clean_env(monkeypatch)
    assert main(["token", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no token printed
    assert _one_line(captured.err).startswith(message)
    assert main(["token", *args, "--force"]) == 0  # insisting mints it
    assert capsys.readouterr().out.count(".") == 2


def test_a_partner_token_with_its_partner_is_minted_without_a_word(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean_env(monkeypatch)
    assert main(["token", "--role", "partner", "--partner-id", "DHL"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.count(".") == 2


# --- demo --reset ----------------------------------------------------------------------


def _free_port() -> int:
    """A port free a moment ago (the gateway's port must be >= 1)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.sockets
def test_demo_reset_wipes_and_reseeds_the_demo_data(tmp_path: Path) -> None:
    assert main(["seed", "--scale", "0.02", "--data-dir", str(tmp_path)]) == 0
    (tmp_path / "orders.sqlite").write_bytes(b"an old journal")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}
    env |= {
        "CROSSDOCK_PORT": str(_free_port()),
        "CROSSDOCK_ZOHO_PORT": "0",
        "CROSSDOCK_ERP_PORT": "0",
    }
    argv = [sys.executable, "-m", "gateway", "demo", "--reset", "--scale", "0.02"]
    demo = subprocess.Popen(  # noqa: S603
        [*argv, "--data-dir", str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = demo.stdout.readline()
        lines.append(line)
        if not line or line.startswith("Ctrl-C stops"):
            break
    demo.send_signal(signal.SIGINT)
    demo.communicate(timeout=30)
    text = "".join(lines)
    assert f"crossdock demo: wiped the demo data in {tmp_path}; seeding it anew" in text
    assert f"seeded {tmp_path} in" in text  # seeded again: the data was there before
    assert "Ctrl-C stops" in text
    assert (tmp_path / "orders.sqlite").read_bytes()[:16] == b"SQLite format 3\x00"
