"""SQLite storage of the emulated CRM: one table per module, records as JSON in Zoho's wire shape.

Each table keeps the document plus indexed columns for what queries filter and sort on
(id, created/modified epoch ms, the account lookup, Product_Code, External_Ref), so lists,
id batches and incremental syncs stay index lookups at 100k order lines.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from backends.zoho.clock import TenantClock
from backends.zoho.fields import MODULES

ID_PREFIX = 5725767 * 10**12  # 19-digit ids, like "5725767000000524157"
FIRST_SEQUENCE = 100_000
DEFAULT_OWNER: dict[str, Any] = {
    "name": "Crossdock Admin",
    "id": "5725767000000024001",
    "email": "admin@crossdock.test",
}
Record = dict[str, Any]

_COLUMNS = "id, created_ms, modified_ms, account_id, product_code, external_ref, doc"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS "{t}" (
    id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL,
    account_id TEXT, product_code TEXT, external_ref TEXT UNIQUE, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS "{t}_modified" ON "{t}" (modified_ms, id);
CREATE INDEX IF NOT EXISTS "{t}_created" ON "{t}" (created_ms, id);
CREATE INDEX IF NOT EXISTS "{t}_account" ON "{t}" (account_id);
CREATE INDEX IF NOT EXISTS "{t}_product_code" ON "{t}" (product_code);
"""


class ZohoStore:
    """Records of the four emulated modules in one SQLite file (or ":memory:")."""

    def __init__(self, path: str | Path, *, tz: str = "Asia/Kolkata") -> None:
        self.clock = TenantClock(tz)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        for module in MODULES:
            self._db.executescript(_SCHEMA.format(t=module))
        self._db.commit()
        self._last_id = max(ID_PREFIX + FIRST_SEQUENCE, self._max_id())
        self._last_so = self._max_so_number()

    def close(self) -> None:
        self._db.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection, for the emulation's own tables (watch channels)."""
        return self._db

    def new_id(self) -> str:
        self._last_id += 1
        return str(self._last_id)

    def next_so_number(self) -> str:
        self._last_so += 1
        return f"SO-{self._last_so:06d}"

    def insert(self, module: str, records: Iterable[Record]) -> list[str]:
        """Raw load for seeding: fills missing id, times, SO_Number, Owner; no validation."""
        table = _table(module)
        now = self.clock.format(self.clock.now_ms())
        docs = [self._complete(table, dict(r), now) for r in records]
        self._db.executemany(
            f'INSERT INTO "{table}" ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)',  # noqa: S608
            [self._row(doc) for doc in docs],
        )
        self._db.commit()
        return [doc["id"] for doc in docs]

    def save(self, module: str, doc: Record) -> None:
        """Insert or replace one complete record."""
        table = _table(module)
        self._db.execute(
            f'INSERT OR REPLACE INTO "{table}" ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)',  # noqa: S608
            self._row(doc),
        )
        self._db.commit()

    def delete(self, module: str, ids: Sequence[str]) -> None:
        table = _table(module)
        self._db.executemany(f'DELETE FROM "{table}" WHERE id = ?', [(i,) for i in ids])  # noqa: S608
        self._db.commit()

    def count(self, module: str) -> int:
        return self.count_where(module, "1", ())

    def count_where(self, module: str, where: str, params: Sequence[Any]) -> int:
        sql = f'SELECT count(*) FROM "{_table(module)}" WHERE {where}'  # noqa: S608
        row = self._db.execute(sql, params).fetchone()
        return int(row[0])

    def select(
        self,
        module: str,
        where: str,
        params: Sequence[Any],
        *,
        order_by: str = "id DESC",
        limit: int = -1,
        offset: int = 0,
    ) -> list[Record]:
        """Documents matching a SQL condition built by the emulator (never by a client)."""
        sql = (
            f'SELECT doc FROM "{_table(module)}" WHERE {where} '  # noqa: S608
            f"ORDER BY {order_by} LIMIT ? OFFSET ?"
        )
        rows = self._db.execute(sql, [*params, limit, offset]).fetchall()
        return [json.loads(row[0]) for row in rows]

    def select_projected(
        self,
        module: str,
        where: str,
        params: Sequence[Any],
        *,
        fields: Sequence[str],
        order_by: str = "id DESC",
        limit: int = -1,
        offset: int = 0,
    ) -> list[str]:
        """`select`, each document cut to its `id` and `fields` (null when absent) by SQLite,
        as JSON object text: what a read answers, with no document decoded in Python."""
        pairs = ", ".join(["'id', doc -> '$.id'", *["?, doc -> ?"] * len(fields)])
        sql = (
            f'SELECT json_object({pairs}) FROM "{_table(module)}" WHERE {where} '  # noqa: S608
            f"ORDER BY {order_by} LIMIT ? OFFSET ?"
        )
        paths = [part for name in fields for part in (name, f'$."{name}"')]
        rows = self._db.execute(sql, [*paths, *params, limit, offset]).fetchall()
        return [str(row[0]) for row in rows]

    def get(self, module: str, ids: Sequence[str]) -> dict[str, Record]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        found = self.select(module, f"id IN ({marks})", ids)
        return {doc["id"]: doc for doc in found}

    def _complete(self, module: str, doc: Record, now: str) -> Record:
        doc.setdefault("id", self.new_id())
        doc.setdefault("Created_Time", now)
        doc.setdefault("Modified_Time", doc["Created_Time"])
        for name in ("Created_Time", "Modified_Time"):  # shown in the tenant's zone, as Zoho does
            doc[name] = self.clock.format(self.clock.parse_ms(doc[name]))
        doc.setdefault("Owner", dict(DEFAULT_OWNER))
        if module == "Contacts":
            names = (doc.get("First_Name"), doc.get("Last_Name"))
            doc.setdefault("Full_Name", " ".join(n for n in names if n))
        if module == "Sales_Orders":
            doc.setdefault("SO_Number", self.next_so_number())
            for line in doc.get("Ordered_Items") or []:
                line.setdefault("id", self.new_id())
        return doc

    def _row(self, doc: Record) -> tuple[Any, ...]:
        account = doc.get("Account_Name")
        return (
            str(doc["id"]),
            self.clock.parse_ms(doc["Created_Time"]),
            self.clock.parse_ms(doc["Modified_Time"]),
            account.get("id") if isinstance(account, dict) else None,
            doc.get("Product_Code"),
            doc.get("External_Ref"),
            json.dumps(doc, separators=(",", ":")),
        )

    def _max_id(self) -> int:
        highest = 0
        for module in MODULES:
            row = self._db.execute(f'SELECT max(CAST(id AS INTEGER)) FROM "{module}"').fetchone()  # noqa: S608
            highest = max(highest, int(row[0] or 0))
        row = self._db.execute(
            "SELECT max(CAST(json_extract(line.value, '$.id') AS INTEGER))"
            ' FROM "Sales_Orders", json_each("Sales_Orders".doc, \'$.Ordered_Items\') AS line'
        ).fetchone()
        return max(highest, int(row[0] or 0))

    def _max_so_number(self) -> int:
        row = self._db.execute(
            "SELECT max(CAST(substr(json_extract(doc, '$.SO_Number'), 4) AS INTEGER))"
            ' FROM "Sales_Orders"'
        ).fetchone()
        return int(row[0] or 0)


def _table(module: str) -> str:
    if module not in MODULES:
        raise ValueError(f"unknown module {module!r}; known: {sorted(MODULES)}")
    return module
