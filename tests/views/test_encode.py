"""The formats: RFC 4180 CSV that Python's csv module reads back, NDJSON, and Parquet; each a
file of rows only."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest

from gateway.views.columns import ColumnType
from gateway.views.encode import CsvEncoder, NdjsonEncoder, csv_cell, defuse_formula

COLUMNS = ("name", "amount", "note")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),  # null is an empty cell
        (True, "true"),  # booleans as JSON spells them
        (3.0, "3"),  # whole floats (quantities) without a trailing .0
        (2.5, "2.5"),
        ("1299.50", "1299.50"),  # decimals arrive as exact strings and stay so
        ("2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z"),
        (7, "7"),
    ],
)
def test_cells_are_exact_and_locale_free(value: object, text: str) -> None:
    assert csv_cell(value) == text


def test_csv_quotes_only_when_needed_and_ends_lines_with_crlf() -> None:
    encoder = CsvEncoder()
    body = encoder.header(COLUMNS) + encoder.rows(
        COLUMNS, [("Acme, Inc.", "10.00", 'say "hi"'), ("Zeta", None, "two\nlines")]
    )
    text = body.decode("utf-8")
    assert text.startswith("name,amount,note\r\n")
    assert '"Acme, Inc.",10.00,"say ""hi"""\r\n' in text
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed == [
        list(COLUMNS),
        ["Acme, Inc.", "10.00", 'say "hi"'],
        ["Zeta", "", "two\nlines"],
    ]


def test_csv_is_utf8_without_a_byte_order_mark() -> None:
    body = CsvEncoder().rows(COLUMNS, [("Müller GmbH", "1", "日本")])
    assert body.decode("utf-8") == "Müller GmbH,1,日本\r\n"
    assert not body.startswith(b"\xef\xbb\xbf")


TYPES = [ColumnType(name, "string", "String", "", True) for name in COLUMNS]


def test_a_csv_writer_writes_the_header_once_and_nothing_after_the_rows() -> None:
    writer = CsvEncoder().writer(TYPES)
    body = (
        writer.write([("Acme", "1.50", None)]) + writer.write([]) + writer.write([("B", "2", "")])
    )
    assert body + writer.close() == b"name,amount,note\r\nAcme,1.50,\r\nB,2,\r\n"
    empty = CsvEncoder().writer(TYPES)
    assert empty.close() == b"name,amount,note\r\n"  # no rows: the header alone


def test_ndjson_has_one_object_per_row_and_nothing_else() -> None:
    writer = NdjsonEncoder().writer(TYPES)
    body = writer.write([("Acme", "1.50", None)]) + writer.close()
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert lines == [{"name": "Acme", "amount": "1.50", "note": None}]


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd", "'+cmd"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("-12.50", "-12.50"),  # numbers stay exact: decimals, signs, exponents
        ("+3", "+3"),
        ("-1e-07", "-1e-07"),
        ("Acme = good", "Acme = good"),  # only the first character matters
    ],
)
def test_csv_escapes_text_a_spreadsheet_would_run_as_a_formula(text: str, escaped: str) -> None:
    [[cell]] = list(csv.reader(io.StringIO(CsvEncoder().rows(("c",), [(text,)]).decode())))
    assert cell == escaped


def test_csv_keeps_formula_text_as_is_when_asked_and_ndjson_never_escapes() -> None:
    row = [("=1+1", "-5", "@x")]
    kept = CsvEncoder(formulas="keep").rows(COLUMNS, row)
    assert kept == b"=1+1,-5,@x\r\n"
    assert json.loads(NdjsonEncoder().rows(COLUMNS, row)) == {
        "name": "=1+1",
        "amount": "-5",
        "note": "@x",
    }


# Values of every kind a column can hold, formula-like ones included, mixed within columns.
CELLS = [None, "", "Acme", "=SUM(A1)", "+1 555", "-12.50", "@x", "\tx", "\rx", "-x", 7, -3,
         0, True, False, 3.0, 2.5, -0.5, "1e-7", "Müller", 'say "hi"', "a,b"]  # fmt: skip


def _reference(rows: list[tuple[object, ...]], escape: bool) -> bytes:
    """The encoding cell by cell, as the encoder is specified."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    cell = (lambda v: defuse_formula(csv_cell(v))) if escape else csv_cell
    writer.writerows([[cell(v) for v in row] for row in rows])
    return out.getvalue().encode("utf-8")


@pytest.mark.parametrize("formulas", ["escape", "keep"])
@pytest.mark.parametrize("seed", range(30))
def test_csv_rows_encode_exactly_as_cell_by_cell_encoding_would(formulas: str, seed: int) -> None:
    pick = random.Random(seed)
    width = pick.randint(1, 5)
    # some columns hold one kind only (the fast paths), others a mix (the cell-by-cell path)
    pools = [pick.sample(CELLS, pick.randint(1, 4)) for _ in range(width)]
    rows = [tuple(pick.choice(pool) for pool in pools) for _ in range(pick.randint(0, 12))]
    encoder = CsvEncoder(formulas=formulas)  # type: ignore[arg-type]
    names = tuple(f"c{i}" for i in range(width))
    assert encoder.rows(names, rows) == _reference(rows, formulas == "escape")
