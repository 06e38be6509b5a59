"""SQLite storage of the emulated ERPNext: one `tab<DocType>` table per DocType, like Frappe.

Parent and child rows are real columns (so filters, sorting and `in` lookups on indexed
fields run in SQL); child rows carry `parent`, `parentfield`, `parenttype` and `idx`.
Series counters live in `tabSeries` as in Frappe. Identifiers in SQL come from the DocType
metadata only, never from a request.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import bins, naming
from .doctypes import DOCTYPES, meta
from .errors import FrappeError
from .meta import DocType

ADMIN = "Administrator"
Row = dict[str, Any]


class ErpStore:
    """The emulation's database. `ErpStore(":memory:")` for tests, a file path to persist."""

    def __init__(
        self,
        path: str | Path,
        *,
        tz: str = "Europe/Berlin",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.tz = ZoneInfo(tz)
        self._clock = clock or (lambda: datetime.now(self.tz).replace(tzinfo=None))
        self._last = ""
        self._lock = threading.RLock()
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        if str(path) != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self._create_schema()

    def _create_schema(self) -> None:
        with self.transaction():
            self.conn.execute(
                'CREATE TABLE IF NOT EXISTS "tabSeries" (name TEXT PRIMARY KEY, current INTEGER)'
            )
            for d in DOCTYPES.values():
                cols = ", ".join(f'"{c}" {_sql_type(d, c)}' for c in d.columns)
                self.conn.execute(f"CREATE TABLE IF NOT EXISTS {d.table} ({cols})")
                for c in _indexed(d):
                    index = f'"idx_{d.name}_{c}"'
                    self.conn.execute(f'CREATE INDEX IF NOT EXISTS {index} ON {d.table} ("{c}")')

    # -- clock -------------------------------------------------------------------------------

    def now(self) -> str:
        """Naive site-local "YYYY-MM-DD HH:MM:SS.ffffff", strictly increasing for `modified`."""
        stamp = self._clock().strftime("%Y-%m-%d %H:%M:%S.%f")
        if stamp <= self._last:
            stamp = _bump(self._last)
        self._last = stamp
        return stamp

    def last_stamp(self) -> str:
        """The last stamp `now()` gave: everything written later has a greater `modified`."""
        return self._last

    def today(self) -> str:
        return self._clock().strftime("%Y-%m-%d")

    # -- transactions and plain reads ----------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            self.conn.execute("BEGIN")
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        with self._lock:
            return [dict(r) for r in self.conn.execute(sql, tuple(params))]

    def execute(self, sql: str, params: Iterable[Any] = ()) -> None:
        with self._lock:
            self.conn.execute(sql, tuple(params))

    def exists(self, doctype: str, name: str) -> bool:
        d = DOCTYPES[doctype]
        return bool(self.query(f"SELECT 1 FROM {d.table} WHERE name = ?", (name,)))  # noqa: S608

    def count(self, doctype: str) -> int:
        d = meta(doctype)
        return int(self.query(f"SELECT COUNT(*) AS n FROM {d.table}")[0]["n"])  # noqa: S608

    def get(self, doctype: str, name: str) -> Row | None:
        """The full document with its child tables as lists, or None."""
        d = DOCTYPES[doctype]
        rows = self.query(f"SELECT * FROM {d.table} WHERE name = ?", (name,))  # noqa: S608
        if not rows:
            return None
        doc = {"doctype": d.name, **rows[0]}
        for table in d.tables:
            child = DOCTYPES[table.options]
            doc[table.name] = [
                {"doctype": child.name, **r}
                for r in self.query(
                    f"SELECT * FROM {child.table} WHERE parent = ? AND parentfield = ? "  # noqa: S608
                    "ORDER BY idx",
                    (name, table.name),
                )
            ]
        return doc

    # -- writes ------------------------------------------------------------------------------

    def write(self, doctype: str, doc: Row, *, new: bool) -> None:
        """Store a full document (parent row and every child table). Call inside a transaction."""
        d = DOCTYPES[doctype]
        verb = "INSERT" if new else "INSERT OR REPLACE"
        try:
            self._put(d, [doc], verb)
        except sqlite3.IntegrityError:
            raise FrappeError(
                "DuplicateEntryError", f"{doctype} {doc['name']} already exists"
            ) from None
        for table in d.tables:
            child = DOCTYPES[table.options]
            self.execute(
                f"DELETE FROM {child.table} WHERE parent = ? AND parentfield = ?",  # noqa: S608
                (doc["name"], table.name),
            )
            self._put(child, doc.get(table.name) or [], "INSERT")

    def delete(self, doctype: str, name: str) -> None:
        d = DOCTYPES[doctype]
        self.execute(f"DELETE FROM {d.table} WHERE name = ?", (name,))  # noqa: S608
        for table in d.tables:
            child = DOCTYPES[table.options]
            self.execute(f"DELETE FROM {child.table} WHERE parent = ?", (name,))  # noqa: S608

    def _put(self, d: DocType, docs: list[Row], verb: str) -> None:
        cols = d.columns
        marks = ", ".join("?" for _ in cols)
        names = ", ".join(f'"{c}"' for c in cols)
        rows = [tuple(doc.get(c) for c in cols) for doc in docs]
        sql = f"{verb} INTO {d.table} ({names}) VALUES ({marks})"
        with self._lock:
            self.conn.executemany(sql, rows)

    # -- naming ------------------------------------------------------------------------------

    def next_name(self, pattern: str) -> str:
        """The next name of a naming series, e.g. "SAL-ORD-.YYYY.-.#####" → SAL-ORD-2026-00001."""
        prefix, digits = self._series_prefix(pattern)
        with self._lock:
            row = self.conn.execute('SELECT current FROM "tabSeries" WHERE name = ?', (prefix,))
            found = row.fetchone()
            current = (found[0] if found else 0) + 1
            self.conn.execute(
                'INSERT OR REPLACE INTO "tabSeries" (name, current) VALUES (?, ?)',
                (prefix, current),
            )
        return f"{prefix}{current:0{digits}d}"

    def _series_prefix(self, pattern: str) -> tuple[str, int]:
        parts = pattern.split(".")
        digits = len(parts[-1])
        year = self._clock().strftime("%Y")
        return "".join(year if p == "YYYY" else p for p in parts[:-1]), digits

    def _note_series(self, names: Iterable[str]) -> None:
        top: dict[str, int] = {}
        for name in names:
            m = re.fullmatch(r"(.*?)(\d{5,})", name)
            if m:
                top[m[1]] = max(top.get(m[1], 0), int(m[2]))
        for prefix, current in top.items():
            self.execute(
                'INSERT INTO "tabSeries" (name, current) VALUES (?, ?) ON CONFLICT(name) '
                "DO UPDATE SET current = max(current, excluded.current)",
                (prefix, current),
            )

    # -- seeding -----------------------------------------------------------------------------

    def insert(self, doctype: str, docs: Iterable[Row]) -> list[str]:
        """Raw load, like a data import: no business logic. Missing standard fields are set."""
        d = meta(doctype)
        parents: list[Row] = []
        children: dict[str, list[Row]] = {t.options: [] for t in d.tables}
        stamp = self.now()
        with self.transaction():
            for doc in docs:
                row = self._complete(d, doc, stamp)
                if "name" not in doc:
                    row["name"] = naming.base_name(self, d, row)
                parents.append(row)
                for table in d.tables:
                    for i, child in enumerate(doc.get(table.name) or [], start=1):
                        c = self._complete(DOCTYPES[table.options], child, row["modified"])
                        c.update(parent=row["name"], parenttype=d.name, parentfield=table.name)
                        c["idx"] = child.get("idx") or i
                        c["docstatus"] = row["docstatus"]
                        children[table.options].append(c)
            self._put(d, parents, "INSERT")
            for child_type, rows in children.items():
                self._put(DOCTYPES[child_type], rows, "INSERT")
            if d.naming.startswith("series:"):
                self._note_series(p["name"] for p in parents)
        return [p["name"] for p in parents]

    def _complete(self, d: DocType, doc: Row, stamp: str) -> Row:
        unknown = set(doc) - set(d.columns) - {t.name for t in d.tables} - {"doctype"}
        if unknown:
            raise ValueError(f"{d.name} has no field(s) {sorted(unknown)}")
        row = {f.name: f.empty() for f in d.fields if f.type != "Table"}
        row.update(owner=ADMIN, modified_by=ADMIN, creation=stamp, modified=stamp)
        row.update(docstatus=0, idx=0, name=secrets.token_hex(5))
        row.update({k: v for k, v in doc.items() if k in d.columns})
        if "modified" not in doc and "creation" in doc:
            row["modified"] = doc["creation"]
        return row

    def recompute_bins(self) -> None:
        """Recompute reserved_qty / reserved_stock / projected_qty of every Bin."""
        with self.transaction():
            bins.recompute(self, None)

    def close(self) -> None:
        with self._lock:
            self.conn.close()


def _bump(stamp: str) -> str:
    last = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f")
    return (last + timedelta(microseconds=1)).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sql_type(d: DocType, column: str) -> str:
    if column == "name":
        return "TEXT PRIMARY KEY"
    if column in ("docstatus", "idx"):
        return "INTEGER"
    return d.by_name[column].sql_type if column in d.by_name else "TEXT"


def _indexed(d: DocType) -> list[str]:
    cols = ["modified"] + [f.name for f in d.fields if f.indexed]
    return [*cols, "parent"] if d.is_child else cols
