"""SQLite storage of the emulated tenant: one table per object, records as JSON documents.

Records are kept in Fxiaoke's wire shape (epoch-ms times, money as strings, lookups as
`<field>` + `<field>__r`). Unique fields are unique expression indexes; the lookups queries
filter on (`account_id`, `order_id`, `product_code`) are indexed the same way.
`_id`s are 24 hex digits that grow with each insert, so `_id` order is insertion order.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from backends.fxiaoke.objects import OBJECTS

ID_PREFIX = "65f0a1"
DEFAULT_OWNER = "FSUID_CROSSDOCK_ADMIN"
Record = dict[str, Any]
_INDEXED = ("account_id", "order_id", "product_code", "name")


class FxStore:
    """Records of the emulated objects in one SQLite file (or ":memory:")."""

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        for api_name, spec in OBJECTS.items():
            self._db.execute(
                f'CREATE TABLE IF NOT EXISTS "{api_name}" (_id TEXT PRIMARY KEY, '
                "create_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL, doc TEXT NOT NULL)"
            )
            for name in (*spec.unique, *_INDEXED):
                if name in spec.fields:
                    kind = "UNIQUE INDEX" if name in spec.unique else "INDEX"
                    self._db.execute(
                        f'CREATE {kind} IF NOT EXISTS "{api_name}_{name}" '
                        f"ON \"{api_name}\" (json_extract(doc, '$.{name}'))"
                    )
        self._db.commit()
        self._last = self._max_sequence()
        self._last_so = self._count("SalesOrderObj")

    def close(self) -> None:
        self._db.close()

    def new_id(self) -> str:
        self._last += 1
        return f"{ID_PREFIX}{self._last:018x}"

    def next_order_number(self) -> str:
        self._last_so += 1
        return f"SO-{self._last_so:06d}"

    def insert(
        self, api_name: str, docs: Iterable[Record], *, now_ms: int | None = None
    ) -> list[str]:
        """Raw load (seeding, creates): fills _id, times and system fields; no validation.
        Raises sqlite3.IntegrityError when a unique field repeats."""
        stamp = now_ms if now_ms is not None else int(time.time() * 1000)
        complete = [self._complete(api_name, dict(d), stamp) for d in docs]
        self._db.executemany(
            f'INSERT INTO "{api_name}" (_id, create_ms, modified_ms, doc) VALUES (?, ?, ?, ?)',  # noqa: S608
            [_row(d) for d in complete],
        )
        self._db.commit()
        return [d["_id"] for d in complete]

    def replace(self, api_name: str, doc: Record) -> None:
        self._db.execute(
            f'UPDATE "{api_name}" SET modified_ms = ?, doc = ? WHERE _id = ?',  # noqa: S608
            (doc["last_modified_time"], json.dumps(doc, separators=(",", ":")), doc["_id"]),
        )
        self._db.commit()

    def get(self, api_name: str, ids: Sequence[str]) -> dict[str, Record]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.select(api_name, f"_id IN ({marks})", list(ids), "_id", -1, 0)
        return {r["_id"]: r for r in rows}

    def select(
        self,
        api_name: str,
        where: str,
        params: Sequence[Any],
        order_by: str,
        limit: int,
        offset: int,
    ) -> list[Record]:
        """Documents matching a condition the emulator built (never text from a client)."""
        sql = (
            f'SELECT doc FROM "{api_name}" WHERE {where} '  # noqa: S608
            f"ORDER BY {order_by} LIMIT ? OFFSET ?"
        )
        rows = self._db.execute(sql, [*params, limit, offset]).fetchall()
        return [json.loads(row[0]) for row in rows]

    def count_where(self, api_name: str, where: str, params: Sequence[Any]) -> int:
        sql = f'SELECT count(*) FROM "{api_name}" WHERE {where}'  # noqa: S608
        return int(self._db.execute(sql, params).fetchone()[0])

    def _count(self, api_name: str) -> int:
        return self.count_where(api_name, "1", ())

    def _complete(self, api_name: str, doc: Record, now_ms: int) -> Record:
        doc.setdefault("_id", self.new_id())
        doc.setdefault("create_time", now_ms)
        doc.setdefault("last_modified_time", doc["create_time"])
        doc.setdefault("owner", [DEFAULT_OWNER])
        doc.setdefault("created_by", [DEFAULT_OWNER])
        doc.setdefault("last_modified_by", [DEFAULT_OWNER])
        doc.setdefault("life_status", "normal")
        doc.setdefault("lock_status", "0")
        doc.setdefault("is_deleted", False)
        doc.setdefault("record_type", "default__c")
        doc.setdefault("version", "1")
        auto = OBJECTS[api_name].auto_number
        if auto is not None and not doc.get(auto):
            doc[auto] = self.next_order_number()
        return doc

    def _max_sequence(self) -> int:
        highest = 0
        for api_name in OBJECTS:
            row = self._db.execute(f'SELECT max(_id) FROM "{api_name}"').fetchone()  # noqa: S608
            if row[0]:
                highest = max(highest, int(str(row[0])[len(ID_PREFIX) :], 16))
        return highest


def _row(doc: Record) -> tuple[Any, ...]:
    body = json.dumps(doc, separators=(",", ":"))
    return (doc["_id"], doc["create_time"], doc["last_modified_time"], body)
