"""The change bus's message codec (resolvers.sync.bus_codec): a Change as explicit JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from resolvers.sync import Change
from resolvers.sync.bus_codec import MAX_MESSAGE, BadMessage, decode, encode

NOW = datetime.now(UTC)


def a_change(**overrides: object) -> Change:
    base: dict[str, object] = {
        "system": "erp",
        "entity": "shipment",
        "record_id": "SHIP-0001",
        "operation": "update",
        "origin": "notification",
        "received_at": NOW,
        "version": NOW - timedelta(seconds=3),
        "fields": {"tracking_url": "https://track.example/1", "qty": 3, "nested": {"a": [1]}},
    }
    return Change(**(base | overrides))  # type: ignore[arg-type]


def test_a_change_comes_back_equal_with_its_sender() -> None:
    change = a_change()
    sender, seq, back = decode(encode(change, sender="replica-a", seq=7))
    assert (sender, seq) == ("replica-a", 7)
    assert back == change


def test_a_change_without_version_or_fields_comes_back_equal() -> None:
    change = a_change(version=None, fields={}, system="crm", entity="order", origin="poll")
    assert decode(encode(change, sender="x", seq=1))[2] == change


def test_the_message_is_plain_json_with_utc_times() -> None:
    berlin = timezone(timedelta(hours=1))
    change = a_change(received_at=NOW.astimezone(berlin))
    message = json.loads(encode(change, sender="s", seq=1))
    assert message["v"] == 1
    assert message["from"] == "s"
    assert message["received_at"] == NOW.isoformat()  # normalised to UTC
    assert message["fields"]["nested"] == {"a": [1]}


def test_values_that_are_not_json_travel_as_text() -> None:
    change = a_change(fields={"price": Decimal("12.50"), "at": NOW})
    _, _, back = decode(encode(change, sender="s", seq=1))
    assert back.fields == {"price": "12.50", "at": NOW.isoformat()}


def test_a_naive_time_is_not_encoded() -> None:
    with pytest.raises(ValueError, match="aware"):
        encode(a_change(received_at=datetime.now()), sender="s", seq=1)  # naive on purpose


def test_a_message_over_the_limit_is_not_encoded() -> None:
    with pytest.raises(ValueError, match="over"):
        encode(a_change(fields={"big": "x" * MAX_MESSAGE}), sender="s", seq=1)


@pytest.mark.parametrize(
    ("mutate", "says"),
    [
        (lambda m: m.update(v=2), "format version 2"),
        (lambda m: m.update(entity="invoice"), "entity 'invoice' is not one of"),
        (lambda m: m.update(system="sap"), "system 'sap'"),
        (lambda m: m.update(operation="merge"), "operation 'merge'"),
        (lambda m: m.pop("from"), "from must be"),
        (lambda m: m.update(record_id=""), "record_id must be"),
        (lambda m: m.update(received_at="2026-01-01T00:00:00"), "UTC offset"),
        (lambda m: m.update(version="yesterday"), "not an ISO 8601 time"),
        (lambda m: m.update(fields=[1]), "fields must be a JSON object"),
        (lambda m: m.update(seq=0), "seq must be a positive integer"),
        (lambda m: m.update(seq="3"), "seq must be a positive integer"),
        (lambda m: m.pop("seq"), "seq must be a positive integer"),
    ],
)
def test_a_malformed_message_is_refused_saying_what(mutate: object, says: str) -> None:
    message = json.loads(encode(a_change(), sender="s", seq=1))
    mutate(message)  # type: ignore[operator]
    with pytest.raises(BadMessage, match=says):
        decode(json.dumps(message).encode())


@pytest.mark.parametrize("data", [b"\x80\x04K\x01.", b"[1, 2]", b"not json"])
def test_what_is_not_a_json_object_is_refused(data: bytes) -> None:
    with pytest.raises(BadMessage):
        decode(data)
