"""The response under construction: batches of objects and the positions they fill.

A `Batch` is every object of one type that completes the same selection (all orders of a
page; all their lines). A `Position` is where a completed object or list sits in the
response, linked to the position above it, so that a null in a non-null place can null the
nearest nullable ancestor, as the spec's error propagation asks.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path


class Position(tuple[Any, str | int, bool, "Position | None", str | None]):
    """Where a completed object or list sits: what to null when a non-null field below fails.

    `Position((container, key, nullable, parent, typename))`: the result holding it and its
    key there, whether it may be null, the position above, and the type name of the object
    holding the field (None for a list element). A tuple, built in C: there is one per object
    of the response, and a class's `__init__` for them was 2-4 % of the CPU of the peer's W2
    (1,300 objects). Its response path is built only when asked (for an error, or a
    resolver's `info`).
    """

    dead = False  # nulled by error propagation: nothing below it needs resolving
    _path: Path | bool | None = False  # False: not built yet

    @property
    def container(self) -> Any:
        return self[0]

    @property
    def key(self) -> str | int:
        return self[1]

    @property
    def nullable(self) -> bool:
        return self[2]

    @property
    def parent(self) -> Position | None:
        return self[3]

    @property
    def path(self) -> Path | None:
        path = self._path
        if path is False:
            _, key, _, parent, typename = self
            path = None if parent is None else Path(parent.path, key, typename)
            self._path = path
        assert path is not True
        return path

    def alive(self) -> bool:
        position: Position | None = self
        while position is not None:
            if position.dead:
                return False
            position = position[3]
        return True

    # identity, as for any object: a position is a place, not a value (and holds a dict)
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__


ROOT = Position((None, "", False, None, None))  # the response's data itself: path None


class Batch:
    """Objects of one type completing one selection: sources and their result dicts."""

    __slots__ = ("field_details", "object_type", "positions", "results", "sources")

    def __init__(self, object_type: GraphQLObjectType, field_details: FieldDetailsList) -> None:
        self.object_type = object_type
        self.field_details = field_details
        self.sources: list[Any] = []
        self.results: list[dict[str, Any]] = []
        self.positions: list[Position] = []

    def add(self, source: Any, position: Position) -> dict[str, Any]:
        result: dict[str, Any] = {}
        self.sources.append(source)
        self.results.append(result)
        self.positions.append(position)
        return result

    def alive(self) -> Batch:
        """The batch without objects an error has nulled (itself or an ancestor): graphql-core
        stops resolving an object's fields once one of them nulls it, and so does this."""
        keep = [index for index, position in enumerate(self.positions) if position.alive()]
        if len(keep) == len(self.sources):
            return self
        pruned = Batch(self.object_type, self.field_details)
        pruned.sources = [self.sources[index] for index in keep]
        pruned.results = [self.results[index] for index in keep]
        pruned.positions = [self.positions[index] for index in keep]
        return pruned

    def truncate(self, size: int) -> None:
        """Forget objects added after `size` (their list failed before it was placed)."""
        del self.sources[size:], self.results[size:], self.positions[size:]
