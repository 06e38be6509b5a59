"""Watermarks of the catch-up poll: per source, the last modification time read, in SQLite.

    marks = Watermarks("var/watermarks.sqlite")
    since = await marks.watermark("crm:Accounts")          # None on a new installation
    await marks.set_watermark("crm:Accounts", "2026-12-04T10:00:00.000000+00:00")

Values are UTC ISO text (`isoformat(timespec="microseconds")`, so text order is time order).
`WatermarkStore` is the protocol the catch-up poll needs; the sync inbox (`[sync]`) offers
the same two methods, so the poll can keep its watermarks there instead. A watermark only
moves forward, and only after the changes read up to it were put into the inbox, so a crash
between the two re-reads them (the inbox keeps one change per key and version).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol

_SCHEMA = "CREATE TABLE IF NOT EXISTS watermarks (source TEXT PRIMARY KEY, value TEXT NOT NULL)"


class WatermarkStore(Protocol):
    async def watermark(self, source: str) -> str | None: ...
    async def set_watermark(self, source: str, value: str) -> None: ...


class Watermarks:
    """`WatermarkStore` in one SQLite file (or ":memory:"): source -> UTC ISO text."""

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute(_SCHEMA)
        self._db.commit()

    async def watermark(self, source: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM watermarks WHERE source = ?", (source,)
            ).fetchone()
        return None if row is None else str(row[0])

    async def set_watermark(self, source: str, value: str) -> None:
        """Move the source's watermark to `value`; never backwards."""
        with self._lock:
            self._db.execute(
                "INSERT INTO watermarks (source, value) VALUES (?, ?) ON CONFLICT(source) "
                "DO UPDATE SET value = max(value, excluded.value)",
                (source, value),
            )
            self._db.commit()

    def all(self) -> dict[str, str]:
        with self._lock:
            rows = self._db.execute("SELECT source, value FROM watermarks ORDER BY source")
            return {str(source): str(value) for source, value in rows}

    def close(self) -> None:
        with self._lock:
            self._db.close()
