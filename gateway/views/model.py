"""Views as configuration: a named GraphQL document over one connection, and its columns.

A views file is TOML, one table per view (see `views_default.toml`)::

    [views.shipments]
    description = "One row per shipment."
    connection = "shipments"            # the root connection field (its response key)
    rows = ""                           # "" = one row per node; "lines" = one row per line
    page_size = 100                     # nodes per backend page
    document = '''query Shipments($first: Int!, $after: String, $updatedSince: DateTime) {
      shipments(first: $first, after: $after, updatedSince: $updatedSince) {
        pageInfo { hasNextPage endCursor } nodes { id carrier destination { city } } } }'''
    [views.shipments.columns]           # column name = path under each node, in this order
    shipment = "id"
    city = "destination.city"
    first_line_sku = "lines.0.sku"      # a number picks one element of a list (null if absent)

Column paths under the `rows` path (`lines.sku` when rows = "lines") read from the row's
element. `load_views` only parses; `gateway.views.validate` checks everything against the schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.toml_files import read_toml

DEFAULT_PAGE_SIZE = 100
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SEGMENT = re.compile(r"^([_A-Za-z][_0-9A-Za-z]*|[0-9]{1,4})$")
_VIEW_KEYS = frozenset({"description", "connection", "rows", "page_size", "document", "columns"})


class ViewConfigError(ValueError):
    """A views file is malformed or does not fit the schema; names the view, column and path."""


@dataclass(frozen=True)
class Column:
    """One output column: its name and the path of its value under a node."""

    name: str
    path: tuple[str, ...]

    @property
    def source(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class View:
    """One named, flat view of the graph."""

    name: str
    description: str
    document: str
    connection: str
    rows: tuple[str, ...]
    columns: tuple[Column, ...]
    page_size: int = DEFAULT_PAGE_SIZE

    def under_rows(self, column: Column) -> bool:
        """True when the column reads from the fanned-out row element, not the node."""
        n = len(self.rows)
        return n > 0 and column.path[:n] == self.rows

    def response_path(self, column: Column) -> tuple[str, ...]:
        """Where the column's value sits in a result, as access denials name it (no indices)."""
        keys = tuple(s for s in column.path if not s.isdigit())
        return (self.connection, "nodes", *keys)


@dataclass(frozen=True)
class ViewCatalog:
    """The configured views, by name, in file order."""

    views: Mapping[str, View]
    source: str = "<views>"

    def __iter__(self) -> Iterator[View]:
        return iter(self.views.values())

    def get(self, name: str) -> View | None:
        return self.views.get(name)


def _path(text: Any, where: str) -> tuple[str, ...]:
    if not isinstance(text, str):
        raise ViewConfigError(f"{where} must be a string path like 'customer.name'")
    if text == "":
        return ()
    segments = tuple(text.split("."))
    bad = [s for s in segments if not _SEGMENT.match(s)]
    if bad:
        raise ViewConfigError(
            f"{where}: path {text!r} has a bad segment {bad[0]!r}; "
            "use field names (response keys) and list indices, e.g. 'shipments.0.carrier'"
        )
    return segments


def _columns(table: Any, where: str) -> tuple[Column, ...]:
    if not isinstance(table, Mapping) or not table:
        raise ViewConfigError(f"{where}.columns must be a table of column = 'path' (at least one)")
    columns = []
    for name, path in table.items():
        if not _NAME.match(name):
            raise ViewConfigError(f"{where}.columns.{name}: column names are snake_case")
        columns.append(Column(name, _path(path, f"{where}, column {name!r}")))
        if not columns[-1].path:
            raise ViewConfigError(f"{where}, column {name!r}: the path is empty")
    return tuple(columns)


def _text(table: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise ViewConfigError(f"{where}.{key} is missing or not a string")
    return value


def _view(name: str, table: Any, source: str) -> View:
    where = f"{source}: views.{name}"
    if not _NAME.match(name):
        raise ViewConfigError(f"{where}: view names are snake_case (they become file names)")
    if not isinstance(table, Mapping):
        raise ViewConfigError(f"{where} must be a table")
    unknown = set(table) - _VIEW_KEYS
    if unknown:
        raise ViewConfigError(
            f"{where} has unknown keys {sorted(unknown)}; use {sorted(_VIEW_KEYS)}"
        )
    page_size = table.get("page_size", DEFAULT_PAGE_SIZE)
    if not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1:
        raise ViewConfigError(f"{where}.page_size must be an integer >= 1, got {page_size!r}")
    return View(
        name=name,
        description=_text(table, "description", where, ""),
        document=_text(table, "document", where),
        connection=_text(table, "connection", where),
        rows=_path(table.get("rows", ""), f"{where}.rows"),
        columns=_columns(table.get("columns"), where),
        page_size=page_size,
    )


def parse_view_catalog(data: Mapping[str, Any], *, source: str = "<views>") -> ViewCatalog:
    """A catalog from a parsed TOML document (`{"views": {name: {...}}}`)."""
    unknown = set(data) - {"views"}
    if unknown:
        raise ViewConfigError(
            f"{source}: unknown top-level keys {sorted(unknown)}; use [views.<name>]"
        )
    views = data.get("views", {})
    if not isinstance(views, Mapping):
        raise ViewConfigError(f"{source}: views must be tables [views.<name>]")
    return ViewCatalog({name: _view(name, t, source) for name, t in views.items()}, source)


def load_views(path: str | Path | None = None) -> ViewCatalog:
    """Read a views file; `None` reads the shipped `views_default.toml`."""
    data, source = read_toml(
        path, ("gateway.views", "views_default.toml"), ViewConfigError, "views file"
    )
    return parse_view_catalog(data, source=source)
