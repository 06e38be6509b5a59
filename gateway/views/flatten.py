"""Nested results to flat rows: list paths fan out, indexed paths pick one element.

    rows = Flattener(view, columns).rows(page_data)   # [(value, value, ...), ...]

A node whose rows list is empty or null yields no row (an inner join, like SQL's JOIN over
order lines); a null anywhere on a column's path gives a null cell.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from gateway.views.model import Column, View

Row = tuple[Any, ...]
Step = str | int


def _steps(path: Sequence[str]) -> tuple[Step, ...]:
    return tuple(int(s) if s.isdigit() else s for s in path)


def dig(value: Any, steps: Sequence[Step]) -> Any:
    """The value at `steps` under `value`; None when anything on the way is missing."""
    for step in steps:
        if value is None:
            return None
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and step < len(value) else None
        else:
            value = value.get(step) if isinstance(value, Mapping) else None
    return value


class Flattener:
    """Turns one page of a view's result into rows of the given columns, in their order."""

    def __init__(self, view: View, columns: Sequence[Column]) -> None:
        self.connection = view.connection
        self.rows_path = _steps(view.rows)
        cut = len(view.rows)
        self.readers = [
            (view.under_rows(c), _steps(c.path[cut:] if view.under_rows(c) else c.path))
            for c in columns
        ]

    def nodes(self, data: Mapping[str, Any] | None) -> list[Any]:
        connection = (data or {}).get(self.connection) or {}
        return [n for n in connection.get("nodes") or () if n is not None]

    def rows(self, data: Mapping[str, Any] | None) -> list[Row]:
        return [row for node in self.nodes(data) for row in self._node_rows(node)]

    def _node_rows(self, node: Mapping[str, Any]) -> Iterator[Row]:
        if not self.rows_path:
            yield tuple(dig(node, steps) for _, steps in self.readers)
            return
        for element in dig(node, self.rows_path) or ():
            if element is None:
                continue
            yield tuple(
                dig(element if from_row else node, steps) for from_row, steps in self.readers
            )
