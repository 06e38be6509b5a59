"""Connections: one paging convention for every list, over each system's own paging.

A cursor is opaque to clients and signed (`schema.cursor_key`): it seals `{"a": source,
"o": offset}` where `source` is the connector's cursor for the page start (Zoho page token,
Frappe limit_start) and `offset` counts the items of that page already seen, bound to the
connection's coordinate, parent and filters. Altered, foreign or garbage cursors are
BAD_CURSOR; only positions the gateway issued reach a backend. Every edge's
cursor resumes right after its node; the last edge of a full page carries the connector's
next-page cursor, so walking by `endCursor` costs one backend call per page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import strawberry

from resolvers.errors import BadCursor, InvalidInput
from resolvers.records import Page
from schema.cursor_key import CursorKey, binding
from schema.execution.batch_resolvers import batched

if TYPE_CHECKING:
    from schema.context import Info

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Window:
    """A validated request for one page: how many, and where the page starts."""

    key: CursorKey
    binding: str  # the connection and its arguments (`schema.cursor_key.binding`)
    first: int
    source: str | None
    offset: int

    def cursor(self, source: str | None, offset: int) -> str:
        return self.key.seal(self.binding, {"a": source, "o": offset})


@strawberry.type(description="Where a page ends and whether another one follows.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when a next page exists.")
    end_cursor: str | None = strawberry.field(
        description="The cursor of the last edge; pass it as `after` for the next page."
    )


def edge_cursors(edges: list[Edge[Any]], _info: object) -> list[str]:
    return [edge.window.cursor(edge.source, edge.offset) for edge in edges]


@strawberry.type(description="One entity of a connection, with the cursor that resumes after it.")
class Edge(Generic[T]):
    # Sealed only when selected: a page read through `nodes` signs no cursor (signing every
    # edge's was 3 % of the CPU of a 50-order page).
    cursor: str = batched(edge_cursors, "Opaque; pass as `after` to continue after node.")
    node: T = strawberry.field(description="The entity.")
    window: strawberry.Private[Window]
    source: strawberry.Private[str | None]  # the connector's cursor of the page it resumes in
    offset: strawberry.Private[int]  # the items of that page it resumes after


@strawberry.type(description="A page of entities: edges with cursors, the bare nodes, and paging.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The entities with their cursors.")
    nodes: list[T] = strawberry.field(description="The entities alone, in the same order.")
    page_info: PageInfo = strawberry.field(description="Paging state of this page.")


def check_first(first: int | None, *, default: int, cap: int) -> int:
    value = default if first is None else first
    if value < 0 or value > cap:
        raise first_out_of_range(value, cap)
    return value


def first_out_of_range(value: int, cap: int) -> InvalidInput:
    """The error for a `first` outside 0..cap (the gateway refuses it before estimating cost)."""
    shown = str(value) if len(str(value)) <= 24 else f"{str(value)[:20]}…"
    return InvalidInput(
        f"first must be between 0 and {cap} (the cap set by graphql.max_first), got {shown}.",
        argument="first",
        max=cap,
    )


def window(key: CursorKey, binding: str, first: int, after: str | None) -> Window:
    """The page a client asks for; a cursor not issued for `binding` is BAD_CURSOR."""
    if after is None:
        return Window(key, binding, first, None, 0)
    position = key.open(binding, after)
    source, offset = position.get("a"), position.get("o")
    if not isinstance(source, str | None) or type(offset) is not int or offset < 0:
        raise BadCursor("after holds no position; pass pageInfo.endCursor from this connection.")
    return Window(key, binding, first, source, offset)


def connection_window(
    info: Info, coordinate: str, first: int | None, after: str | None, **filters: Any
) -> Window:
    """The page of connection `coordinate` (`Type.field`) with these row-choosing arguments
    (and the parent's id), under the context's paging caps and cursor key."""
    ctx = info.context
    size = check_first(first, default=ctx.default_first, cap=ctx.max_first)
    return window(ctx.cursor_key, binding(coordinate, **filters), size, after)


def _connection(
    win: Window, items: Sequence[R], has_more: bool, next_source: str | None, node: Callable[[R], T]
) -> Connection[T]:
    shown = list(items[win.offset : win.offset + win.first])
    source, offset = win.source, win.offset
    edges = [
        Edge(node=node(item), window=win, source=source, offset=offset + i + 1)
        for i, item in enumerate(shown)
    ]
    if edges and next_source is not None and win.offset + len(shown) == len(items):
        last = edges[-1]
        last.source, last.offset = next_source, 0
    end = win.cursor(edges[-1].source, edges[-1].offset) if edges else None
    return Connection(
        edges=edges,
        nodes=[edge.node for edge in edges],
        page_info=PageInfo(has_next_page=has_more, end_cursor=end),
    )


# Told a page's `hasNextPage` and `endCursor` as soon as they are known, before the nodes are
# resolved (a view export starts its next page then): see GatewayContext.page_listener.
Announce = Callable[[bool, str | None], None]


async def paginate(
    win: Window,
    fetch: Callable[[int, str | None], Awaitable[Page[R]]],
    node: Callable[[R], T],
    announce: Announce | None = None,
) -> Connection[T]:
    """One page from a connector: asks for `offset + first` items from the page start."""
    if win.first == 0:
        connection = _connection(win, (), False, None, node)
    else:
        page = await fetch(win.offset + win.first, win.source)
        has_more = page.next_cursor is not None or len(page.items) > win.offset + win.first
        connection = _connection(win, page.items, has_more, page.next_cursor, node)
    if announce is not None:
        announce(connection.page_info.has_next_page, connection.page_info.end_cursor)
    return connection


def from_list(win: Window, items: Sequence[R], node: Callable[[R], T]) -> Connection[T]:
    """A first page cut from a list already fetched (a batched loader's result)."""
    return _connection(win, items, len(items) > win.offset + win.first, None, node)
