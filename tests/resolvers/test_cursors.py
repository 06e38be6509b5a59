"""Cursors: what a client sends back is checked, and a bad one is InvalidInput, never a 500."""

from __future__ import annotations

import base64

import pytest

from resolvers.cursors import decode_cursor, encode_cursor, offset_of
from resolvers.errors import InvalidInput


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_round_trips_its_position() -> None:
    cursor = encode_cursor({"k": "orders", "o": 40})
    assert offset_of(decode_cursor(cursor, kind="orders")) == 40


BAD_CURSORS = [
    ("not base64 at all!", "is not valid"),  # junk
    (_b64(b"\xff\xfe"), "is not valid"),  # not UTF-8
    (_b64(b"[" * 5000 + b"]" * 5000), "is not valid"),  # nested past the JSON parser's depth
    (_b64(b'{"k":"customers","o":0}'), "does not belong to this listing (orders)"),  # another list
    (_b64(b"[1]"), "does not belong to this listing"),  # JSON, but not an object
]


@pytest.mark.parametrize(("cursor", "message"), BAD_CURSORS)
def test_a_bad_cursor_is_invalid_input_naming_the_problem(cursor: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor, kind="orders")
    assert message in caught.value.message


@pytest.mark.parametrize("offset", [-1, "3", True, 1.5])  # negative, text, bool, fraction
def test_an_offset_that_is_no_row_number_is_invalid_input(offset: object) -> None:
    with pytest.raises(InvalidInput, match=r"invalid offset; pass a cursor from pageInfo\."):
        offset_of({"k": "orders", "o": offset})
