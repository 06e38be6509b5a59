"""`python -m bench --peer` finds the peer's runner or says why it skips; it never copies the
peer in. (The run itself takes minutes and needs npm: it is a bench, not a test.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import peer


def test_a_missing_runner_is_named_and_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSDOCK_PEER_BENCH", str(tmp_path / "nowhere"))
    monkeypatch.setattr(peer, "DEFAULT", tmp_path / "also-nowhere")
    text = peer.side_by_side(tmp_path / "empty", quick=True)
    assert text.startswith("Side by side with the peer: skipped (no run_sidebyside.sh")


def test_the_runner_is_found_in_the_given_folder_first(tmp_path: Path) -> None:
    (tmp_path / "run_sidebyside.sh").write_text("#!/bin/sh\n", encoding="utf-8")
    assert peer.find_runner(tmp_path) == tmp_path / "run_sidebyside.sh"


def test_the_tokens_module_external_tools_import_still_mints() -> None:
    from gateway.auth.tokens import mint as moved
    from gateway.tokens import mint

    assert mint is moved


def test_the_gateway_config_external_tools_build_from_two_urls_still_parses(
    tmp_path: Path,
) -> None:
    """The peer bench builds Crossdock's settings with `bench.harness.gateway_config` from an
    object that has only `zoho_url` and `erp_url`; that must stay a Zoho configuration."""
    import tomllib

    from bench.harness import gateway_config

    class TwoUrls:
        zoho_url, erp_url = "http://127.0.0.1:1", "http://127.0.0.1:2"

    settings = tomllib.loads(gateway_config(TwoUrls, 1, tmp_path))  # type: ignore[arg-type]
    assert settings["crm"]["base_url"] == "http://127.0.0.1:1"
    assert "kind" not in settings["crm"]
    assert settings["scm"]["base_url"] == "http://127.0.0.1:2"


def script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}", encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def node_and_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`node` and `npm` on PATH whether or not this machine has them (the runner stands in)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("node", "npm"):
        script(bin_dir / tool, "")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.usefixtures("node_and_npm")
def test_the_full_run_compares_single_and_best_configurations_in_one_run(
    tmp_path: Path,
) -> None:
    """The runner (a stand-in that prints its arguments and checkout) is asked for both
    pairs at once, and its output is the report's section."""
    script(
        tmp_path / "run_sidebyside.sh", 'echo "args: $*"\necho "checkout: $CROSSDOCK_CHECKOUT"\n'
    )
    text = peer.side_by_side(tmp_path, quick=False)
    assert "--systems cd1,peer1,cdw2,peer-f2-jit" in text
    assert "--pairs cd1:peer1,cdw2:peer-f2-jit" in text
    assert f"checkout: {peer.ROOT}" in text
    assert peer.side_by_side(tmp_path, quick=True).count("args: --quick") == 1


@pytest.mark.usefixtures("node_and_npm")
def test_a_failing_runner_is_reported_with_its_last_lines(tmp_path: Path) -> None:
    script(tmp_path / "run_sidebyside.sh", "echo 'port 9410 is taken' >&2\nexit 3\n")
    text = peer.side_by_side(tmp_path, quick=True)
    assert "failed (3)" in text
    assert "port 9410 is taken" in text
