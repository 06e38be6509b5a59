"""Watermarks of the catch-up poll: per source, the last modification time read, in SQLite.

    marks = Watermarks("var/watermarks.sqlite")
    since = marks.get("crm:Accounts")            # None on a new installation
    marks.set("crm:Accounts", latest_modified)    # aware datetimes, stored as UTC ISO text

A watermark only moves forward, and only after the changes read up to it were put into the
inbox, so a crash between the two re-reads them (the inbox keeps one per key and version).
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = "CREATE TABLE IF NOT EXISTS watermarks (source TEXT PRIMARY KEY, value TEXT NOT NULL)"


class Watermarks:
    """One SQLite file (or ":memory:") of source -> UTC datetime."""

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute(_SCHEMA)
        self._db.commit()

    def get(self, source: str) -> datetime | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM watermarks WHERE source = ?", (source,)
            ).fetchone()
        return None if row is None else datetime.fromisoformat(row[0])

    def set(self, source: str, value: datetime) -> None:
        """Move the source's watermark to `value` (aware); never backwards."""
        if value.tzinfo is None:
            raise ValueError("a watermark must be an aware datetime")
        text = value.astimezone(UTC).isoformat(timespec="microseconds")  # sortable text
        with self._lock:
            self._db.execute(
                "INSERT INTO watermarks (source, value) VALUES (?, ?) ON CONFLICT(source) "
                "DO UPDATE SET value = max(value, excluded.value)",
                (source, text),
            )
            self._db.commit()

    def all(self) -> dict[str, datetime]:
        with self._lock:
            rows = self._db.execute("SELECT source, value FROM watermarks ORDER BY source")
            return {source: datetime.fromisoformat(value) for source, value in rows}

    def close(self) -> None:
        with self._lock:
            self._db.close()
