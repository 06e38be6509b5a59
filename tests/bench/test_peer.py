"""`python -m bench --peer` finds the peer's runner or says why it skips; it never copies the
peer in. (The run itself takes minutes and needs npm: it is a bench, not a test.)"""

from __future__ import annotations

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
