"""`crossdock sync status|retry|replay` on an inbox file, as an operator runs them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli import main
from resolvers.sync import Change
from resolvers.sync.inbox import Backoff, SqliteInbox


def change(record_id: str) -> Change:
    return Change(
        system="crm",
        entity="account",
        record_id=record_id,
        operation="update",
        origin="notification",
        received_at=datetime.now(UTC),
    )


@pytest.fixture
def inbox_path(tmp_path: Path) -> str:
    """An inbox with one dead change (A1), one done (B2) and a watermark."""
    path = tmp_path / "sync.sqlite"
    inbox = SqliteInbox(path, backoff=Backoff(attempts=1))

    async def fill() -> None:
        await inbox.put(change("A1"))
        await inbox.put(change("B2"))
        for item in await inbox.claim("w"):
            if item.change.record_id == "A1":
                await inbox.failed(item, "w", "BACKEND_UNAVAILABLE: ERPNext returned 503")
            else:
                await inbox.done(item, "w", outcome="ok")
        await inbox.set_watermark("crm:Accounts", "2026-01-01T00:00:00+00:00")

    asyncio.run(fill())
    inbox.close()
    return str(path)


def test_status_lists_the_dead_change_with_its_reason_and_fails(
    inbox_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "status", "--inbox", inbox_path]) == 1
    out = capsys.readouterr().out
    assert "crm: 0 pending, 0 retrying, 1 dead, 1 done" in out
    assert "dead after 1 attempt(s) crm:account:A1" in out
    assert "BACKEND_UNAVAILABLE: ERPNext returned 503" in out
    assert "watermark crm:Accounts: 2026-01-01T00:00:00+00:00" in out


def test_status_as_json(inbox_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["sync", "status", "--inbox", inbox_path, "--json"])
    document = json.loads(capsys.readouterr().out)
    [failed] = document["failed"]
    assert (failed["key"], failed["state"]) == ("crm:account:A1", "dead")
    assert document["sources"][0]["dead"] == 1


def test_retry_puts_the_dead_change_back_then_status_is_clean(
    inbox_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["sync", "status", "--inbox", inbox_path, "--json"])
    [failed] = json.loads(capsys.readouterr().out)["failed"]
    assert main(["sync", "retry", str(failed["id"]), "--inbox", inbox_path]) == 0
    assert "1 change(s) put back" in capsys.readouterr().out
    assert main(["sync", "status", "--inbox", inbox_path]) == 0
    assert "1 pending, 0 retrying, 0 dead" in capsys.readouterr().out
    assert main(["sync", "retry", "--all", "--inbox", inbox_path]) == 0  # nothing left: fine


def test_replay_puts_done_changes_back(inbox_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "replay", "--since", "1h", "--inbox", inbox_path]) == 0
    assert "1 change(s) since" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["sync", "retry"], "needs a change id or --all"),
        (["sync", "replay", "--since", "yesterday"], "neither a duration"),
        (["sync", "status", "--inbox", "/nonexistent/sync.sqlite"], "no sync inbox at"),
    ],
)
def test_mistakes_are_one_line_and_status_2(
    inbox_path: str, argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--inbox" not in argv:
        argv = [*argv, "--inbox", inbox_path]
    assert main(argv) == 2
    assert says in capsys.readouterr().err
