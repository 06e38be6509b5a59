"""The export formats: CSV (RFC 4180), NDJSON and Parquet, written one page of rows at a time.

    writer = encoder.writer(column_types)     # one per export
    chunks = [writer.write(page) for page in pages] + [writer.close()]

A file holds rows and nothing else, as BI tools load it: no trailer, no error record (a
tool would load either as one more row). The watermark travels in the `Crossdock-Watermark`
header; a failure after the first row aborts the transfer (`gateway.views.routes`).
CSV: UTF-8, a header row, CRLF line ends, fields quoted only when needed; null is an empty
cell, booleans `true`/`false`, decimals and timestamps exactly as the schema serializes them
(decimal strings, RFC 3339 UTC). NDJSON: one JSON object per row. Parquet: typed columns
(`gateway.views.parquet`).

CSV injection: a spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a CR
as a formula, and CRM text (a customer name) is written by outsiders. With
`CsvEncoder(formulas="escape")` (the default) such a text cell gets a leading `'` (OWASP);
numbers (`-12.50`, `+3`, `1e-7`) are never touched, so decimal columns stay exact. The
escape alters text: a tool that needs the raw text reads NDJSON (never escaped) or is
served `formulas="keep"` (`[views] csv_formulas`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Literal, Protocol

from gateway.views.columns import ColumnType
from gateway.views.flatten import Row

Format = Literal["csv", "ndjson", "parquet"]
Formulas = Literal["escape", "keep"]
_FORMULA_FIRST = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def csv_cell(value: Any) -> str:
    """One value as CSV text: exact, locale-free, empty for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def defuse_formula(text: str) -> str:
    """`text` with a leading `'` when a spreadsheet would run it as a formula; numbers kept."""
    if text[:1] in _FORMULA_FIRST and not _NUMBER.match(text):
        return "'" + text
    return text


def _escaped_cell(value: Any) -> str:
    """`defuse_formula(csv_cell(value))`, with text (most cells) taking the short way."""
    if value.__class__ is str:
        return "'" + value if value[:1] in _FORMULA_FIRST and not _NUMBER.match(value) else value
    return defuse_formula(csv_cell(value))


_AS_IS = frozenset({str, int, type(None)})  # csv.writer writes these exactly as csv_cell does
_first_char = itemgetter(slice(0, 1))


def _column(values: tuple[Any, ...], escape: bool) -> Sequence[Any]:
    """One column of a page as csv.writer should get it: converted cell by cell only when
    some cell needs it (a bool, a float, a formula-like text), checked in C otherwise."""
    kinds = set(map(type, values))
    if not kinds <= _AS_IS:
        return [(_escaped_cell if escape else csv_cell)(v) for v in values]
    if not escape or str not in kinds:  # numbers are never escaped (see `defuse_formula`)
        return values
    if kinds <= {str, type(None)} and _FORMULA_FIRST.isdisjoint(
        map(_first_char, filter(None, values))
    ):
        return values
    return [_escaped_cell(v) for v in values]


class RowWriter(Protocol):
    """The bytes of one export, page by page: `write` each page's rows, then `close`."""

    def write(self, rows: Sequence[Row]) -> bytes: ...
    def close(self) -> bytes: ...


class Encoder(Protocol):
    """A format: its media type, its file extension, and a writer per export."""

    @property
    def media_type(self) -> str: ...
    @property
    def extension(self) -> str: ...

    def writer(self, columns: Sequence[ColumnType]) -> RowWriter: ...


class TextEncoder(Protocol):
    """A line-based format: a header (maybe empty), then lines of rows."""

    def header(self, columns: Sequence[str]) -> bytes: ...
    def rows(self, columns: Sequence[str], rows: Sequence[Row]) -> bytes: ...


@dataclass
class TextWriter:
    """A line-based format's writer: the header before the first rows, nothing at the end."""

    encoder: TextEncoder
    names: tuple[str, ...]
    started: bool = False

    def write(self, rows: Sequence[Row]) -> bytes:
        head = b"" if self.started else self.encoder.header(self.names)
        self.started = True
        return head + (self.encoder.rows(self.names, rows) if rows else b"")

    def close(self) -> bytes:
        return b"" if self.started else self.encoder.header(self.names)


@dataclass(frozen=True)
class CsvEncoder:
    """RFC 4180 CSV."""

    media_type: str = "text/csv; charset=utf-8; header=present"
    extension: str = "csv"
    formulas: Formulas = "escape"

    @staticmethod
    def _lines(records: Sequence[Sequence[str]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerows(records)
        return buffer.getvalue().encode("utf-8")

    def header(self, columns: Sequence[str]) -> bytes:
        return self._lines([list(columns)])

    def rows(self, columns: Sequence[str], rows: Sequence[Row]) -> bytes:
        escape = self.formulas == "escape"
        cells = [_column(values, escape) for values in zip(*rows, strict=True)]
        return self._lines(list(zip(*cells, strict=True)))

    def writer(self, columns: Sequence[ColumnType]) -> RowWriter:
        return TextWriter(self, tuple(c.name for c in columns))


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # built once, not per row


@dataclass(frozen=True)
class NdjsonEncoder:
    """Newline-delimited JSON: one object per row, nothing else."""

    media_type: str = "application/x-ndjson"
    extension: str = "ndjson"

    def header(self, columns: Sequence[str]) -> bytes:
        return b""

    def rows(self, columns: Sequence[str], rows: Sequence[Row]) -> bytes:
        lines = [_JSON.encode(dict(zip(columns, row, strict=True))) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""

    def writer(self, columns: Sequence[ColumnType]) -> RowWriter:
        return TextWriter(self, tuple(c.name for c in columns))


def encoders(formulas: Formulas = "escape") -> dict[str, Encoder]:
    """The encoders by extension, CSV with the given formula handling."""
    from gateway.views.parquet import ParquetEncoder  # pyarrow loads on first use

    return {
        "csv": CsvEncoder(formulas=formulas),
        "ndjson": NdjsonEncoder(),
        "parquet": ParquetEncoder(),
    }


MEDIA_TYPES: dict[str, str] = {
    "text/csv": "csv",
    "application/x-ndjson": "ndjson",
    "application/vnd.apache.parquet": "parquet",
}
