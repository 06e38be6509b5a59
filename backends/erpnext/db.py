"""What the Bin and naming rules need of the store: SQL, the site clock, naming series.

`store.ErpStore` implements it; `bins` and `naming` take it, so they do not import the
store that calls them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

Row = dict[str, Any]


class Db(Protocol):
    def now(self) -> str: ...
    def query(self, sql: str, params: Iterable[Any] = ()) -> list[Row]: ...
    def execute(self, sql: str, params: Iterable[Any] = ()) -> None: ...
    def exists(self, doctype: str, name: str) -> bool: ...
    def next_name(self, pattern: str) -> str: ...
