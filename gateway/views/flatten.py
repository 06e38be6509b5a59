"""Nested results to flat rows: list paths fan out, indexed paths pick one element.

    rows = Flattener(view, columns).rows(page_data)   # [(value, value, ...), ...]

A node whose rows list is empty or null yields no row (an inner join, like SQL's JOIN over
order lines); a null anywhere on a column's path gives a null cell. Each column's path is
compiled once into a getter, and the cells a node shares with all its rows are read once
per node, not once per row: an export reads millions of cells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

from gateway.views.model import Column, View

Row = tuple[Any, ...]
Step = str | int
Getter = Callable[[Any], Any]


def _steps(path: Sequence[str]) -> tuple[Step, ...]:
    return tuple(int(s) if s.isdigit() else s for s in path)


def dig(value: Any, steps: Sequence[Step]) -> Any:
    """The value at `steps` under `value`; None when anything on the way is missing."""
    for step in steps:
        if value.__class__ is dict and step.__class__ is str:  # the common case, first
            value = value.get(step)
        elif value is None:
            return None
        elif isinstance(step, int):
            value = value[step] if isinstance(value, list) and step < len(value) else None
        else:
            value = value.get(step) if isinstance(value, Mapping) else None
    return value


def getter(steps: Sequence[Step]) -> Getter:
    """A function reading `steps` under a value exactly as `dig` does, specialised for the
    usual one- and two-key paths of plain dicts (anything else falls back to `dig`)."""
    steps = tuple(steps)
    if len(steps) == 1 and isinstance(steps[0], str):
        key = steps[0]
        return lambda value: value.get(key) if value.__class__ is dict else dig(value, steps)
    if len(steps) == 2 and isinstance(steps[0], str) and isinstance(steps[1], str):
        outer, inner = steps

        def two(value: Any) -> Any:
            found = value.get(outer) if value.__class__ is dict else None
            return found.get(inner) if found.__class__ is dict else dig(value, steps)

        return two
    return lambda value: dig(value, steps)


def _picker(count: int, order: Sequence[int]) -> Callable[[list[Any]], Row]:
    """Cells in column order from `node cells + row cells` (one C call per row)."""
    if count == 1:
        return lambda cells: (cells[order[0]],)
    pick = itemgetter(*order)
    return lambda cells: pick(cells)


class Flattener:
    """Turns one page of a view's result into rows of the given columns, in their order."""

    def __init__(self, view: View, columns: Sequence[Column]) -> None:
        self.connection = view.connection
        self.rows_getter = getter(_steps(view.rows)) if view.rows else None
        cut = len(view.rows)
        from_node = [i for i, c in enumerate(columns) if not view.under_rows(c)]
        from_row = [i for i, c in enumerate(columns) if view.under_rows(c)]
        self.node_getters = [getter(_steps(columns[i].path)) for i in from_node]
        self.row_getters = [getter(_steps(columns[i].path[cut:])) for i in from_row]
        # column i's cell sits at position[i] of `node cells + row cells`
        position = {column: at for at, column in enumerate([*from_node, *from_row])}
        self.pick = _picker(len(columns), [position[i] for i in range(len(columns))])

    def nodes(self, data: Mapping[str, Any] | None) -> list[Any]:
        connection = (data or {}).get(self.connection) or {}
        return [n for n in connection.get("nodes") or () if n is not None]

    def rows(self, data: Mapping[str, Any] | None) -> list[Row]:
        return [row for node in self.nodes(data) for row in self._node_rows(node)]

    def _node_rows(self, node: Mapping[str, Any]) -> Iterator[Row]:
        shared = [read(node) for read in self.node_getters]
        if self.rows_getter is None:
            yield self.pick(shared)
            return
        readers, pick = self.row_getters, self.pick
        for element in self.rows_getter(node) or ():
            if element is not None:
                yield pick(shared + [read(element) for read in readers])
