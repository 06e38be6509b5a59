from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from resolvers.saga.journal import Journal
from resolvers.saga.sealing import JournalCorrupted, JournalKeyError, Sealer
from resolvers.saga.settings import SagaSettings
from resolvers.saga.state import LineInput, OrderInput, ProcessState, ProcessStatus

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def a_state(pid: str = "p1", key: str = "key-1") -> ProcessState:
    order = OrderInput("acct-7", (LineInput("SKU-SECRET", Decimal("2")),), "deliver to Jane Roe")
    return ProcessState(pid, key, "fp", order, NOW, NOW)


def test_a_missing_key_is_a_startup_error_naming_the_setting() -> None:
    with pytest.raises(JournalKeyError, match="CROSSDOCK_JOURNAL_KEY"):
        SagaSettings().open_journal()


def test_a_key_of_the_wrong_length_is_refused() -> None:
    short = base64.b64encode(b"x" * 16).decode()
    with pytest.raises(JournalKeyError, match="32 bytes"):
        Sealer.from_base64(short)
    with pytest.raises(JournalKeyError, match="base64"):
        Sealer.from_base64("not base64!")


def test_sealed_records_use_a_fresh_nonce_and_bind_their_record_id() -> None:
    sealer = Sealer.from_base64(Sealer.generate_key())
    first, second = sealer.seal("process:1", b"data"), sealer.seal("process:1", b"data")
    assert first != second
    assert sealer.open("process:1", first) == b"data"
    with pytest.raises(JournalCorrupted):
        sealer.open("process:2", first)


@pytest.mark.parametrize("length", [0, 5, 12, 27])  # no nonce, short nonce, no tag, short tag
def test_a_truncated_record_is_reported_as_corrupted(length: int) -> None:
    sealer = Sealer.from_base64(Sealer.generate_key())
    blob = sealer.seal("process:1", b"data")
    with pytest.raises(JournalCorrupted, match="process:1 failed authentication"):
        sealer.open("process:1", blob[:length])


def test_the_journal_round_trips_a_process_and_finds_it_by_key(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite", Sealer.from_base64(Sealer.generate_key()))
    assert journal.claim(a_state()) is None
    taken = journal.claim(a_state(pid="p2"))
    assert taken is not None
    assert taken.id == "p1"
    assert journal.find_by_key("key-1") == a_state()
    assert [s.id for s in journal.unfinished()] == ["p1"]


def test_a_released_key_can_be_claimed_again(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite", Sealer.from_base64(Sealer.generate_key()))
    journal.claim(a_state())
    journal.release_key("p1")
    assert journal.claim(a_state(pid="p2")) is None


def test_the_journal_file_holds_no_plaintext_customer_data(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path, Sealer.from_base64(Sealer.generate_key()))
    journal.claim(a_state())
    saved = dataclasses.replace(
        a_state(), status=ProcessStatus.FAILED, crm_order_id="5725767000000524157"
    )
    journal.save(saved)
    journal.record_step("p1", "validate", "failed", NOW, "customer Jane Roe unknown")
    journal.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (b"acct-7", b"SKU-SECRET", b"Jane Roe", b"key-1", b"5725767000000524157"):
        assert secret not in raw


def test_a_journal_opened_with_another_key_refuses_to_read(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    Journal(path, Sealer.from_base64(Sealer.generate_key())).claim(a_state())
    other = Journal(path, Sealer.from_base64(Sealer.generate_key()))
    with pytest.raises(JournalCorrupted):
        other.load("p1")
