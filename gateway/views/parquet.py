"""Parquet exports: typed columns, written row group by row group as the pages arrive.

    writer = ParquetEncoder().writer(column_types)
    body = writer.write(page_rows) + ... + writer.close()     # bytes, sent as they come

Types from the schema (`gateway.views.columns`): ids, text and enums as UTF-8 strings (ids
stay text, never numbers), `integer` int64, `float` float64, `boolean` bool, `decimal` as
Parquet DECIMAL(38, 9) (exact: 9 fractional digits is the most ERPNext stores; a value with
more fails the export rather than being rounded), `timestamp` as a UTC instant in
microseconds. Nullability follows the column's.

Memory is bounded: pages are converted to Arrow batches at once and written as one row group
when `row_group_rows` rows are held (and at the end), then the written bytes leave; the
footer (the file's schema and row-group index) comes last, so a transfer cut short is not a
readable file. pyarrow is imported on the first Parquet export, not at startup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.views.columns import ColumnType, Kind
from gateway.views.flatten import Row
from resolvers.errors import CrossdockError

ROW_GROUP_ROWS = 10_000
DECIMAL_PRECISION, DECIMAL_SCALE = 38, 9
MEDIA_TYPE = "application/vnd.apache.parquet"


class ParquetValueError(CrossdockError):
    """A value that the column's Parquet type cannot hold exactly."""

    code = "EXPORT_VALUE_ERROR"


def arrow_type(kind: Kind) -> Any:
    """The Arrow type of a column kind."""
    import pyarrow as pa

    types: dict[Kind, Any] = {
        "integer": pa.int64(),
        "float": pa.float64(),
        "boolean": pa.bool_(),
        "decimal": pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    return types.get(kind, pa.string())


class _Drain:
    """A write-only file that hands out what was written since the last `take`."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _array(values: Sequence[Any], kind: Kind, arrow: Any) -> Any:
    """One column of a page as an Arrow array; decimals and timestamps parsed from the exact
    text the schema serializes (Arrow's own casts: no float on the way)."""
    import pyarrow as pa

    if kind in ("decimal", "timestamp"):
        try:
            return pa.array(values, pa.string()).cast(arrow)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
            raise ParquetValueError(f"a {kind} value does not fit Parquet {arrow}: {err}") from None
    return pa.array(values, arrow)


class ParquetWriter:
    """One Parquet export: Arrow batches held until a row group is full, then written."""

    def __init__(self, columns: Sequence[ColumnType], row_group_rows: int) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.kinds = [c.kind for c in columns]
        fields = [pa.field(c.name, arrow_type(c.kind), nullable=c.nullable) for c in columns]
        self.schema = pa.schema(fields)
        self.row_group_rows = row_group_rows
        self.batches: list[Any] = []
        self.held = 0
        self.sink = _Drain()
        self.parquet = pq.ParquetWriter(self.sink, self.schema, compression="snappy")

    def write(self, rows: Sequence[Row]) -> bytes:
        import pyarrow as pa

        if rows:
            arrays = [
                _array(values, kind, field.type)
                for values, kind, field in zip(
                    zip(*rows, strict=True), self.kinds, self.schema, strict=True
                )
            ]
            self.batches.append(pa.RecordBatch.from_arrays(arrays, schema=self.schema))
            self.held += len(rows)
        if self.held >= self.row_group_rows:
            self._flush()
        return self.sink.take()

    def _flush(self) -> None:
        import pyarrow as pa

        if self.batches:
            table = pa.Table.from_batches(self.batches, schema=self.schema)
            self.parquet.write_table(table, row_group_size=max(1, self.held))
        self.batches, self.held = [], 0

    def close(self) -> bytes:
        self._flush()
        self.parquet.close()
        return self.sink.take()


@dataclass(frozen=True)
class ParquetEncoder:
    """Apache Parquet, one row group per `row_group_rows` rows."""

    media_type: str = MEDIA_TYPE
    extension: str = "parquet"
    row_group_rows: int = ROW_GROUP_ROWS

    def writer(self, columns: Sequence[ColumnType]) -> ParquetWriter:
        return ParquetWriter(columns, self.row_group_rows)
