"""Pagination ends: on hasNextPage false or a null cursor, and a cursor that never moves
fails the export instead of looping (a tiny schema stands in for a misbehaving source)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import strawberry

from gateway.views.export import Export, ExportFailed
from gateway.views.model import Column, View
from gateway.views.plan import ViewPlan
from schema.context import ExportContext

DOCUMENT = """query Things($first: Int!, $after: String) {
  things(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } } }"""
CURSORS: list[str | None] = []  # what the source answers, page after page
ASKED: list[str | None] = []  # spy: the `after` of each page asked for


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Thing:
    id: str


@strawberry.type
class Things:
    page_info: PageInfo
    nodes: list[Thing]


@strawberry.type
class Query:
    @strawberry.field
    def things(self, first: int, after: str | None = None) -> Things:
        ASKED.append(after)
        cursor = CURSORS[len(ASKED) - 1]
        return Things(
            page_info=PageInfo(has_next_page=True, end_cursor=cursor), nodes=[Thing(id="a")]
        )


SCHEMA = strawberry.Schema(query=Query)
VIEW = View("things", "", DOCUMENT, "things", (), (Column("id", ("id",)),))


async def _no_context() -> ExportContext:
    return ExportContext(crm=None, scm=None)  # type: ignore[arg-type]  # never loads


async def _export(cursors: list[str | None]) -> tuple[Export, list[list[Any]]]:
    CURSORS[:] = cursors
    ASKED.clear()
    export = Export(SCHEMA, ViewPlan(VIEW, VIEW.columns, (), DOCUMENT), _no_context)
    pages: list[list[Any]] = [await export.first()]
    async for rows in export.rest():
        pages.append(rows)
    return export, pages


async def test_a_null_cursor_ends_the_export_even_when_more_pages_are_claimed() -> None:
    export, pages = await _export(["c1", "c2", None])
    assert ASKED == [None, "c1", "c2"]
    assert pages == [[("a",)], [("a",)], [("a",)]]
    assert export.emitted == 3


async def test_a_cursor_that_does_not_move_fails_the_export_instead_of_looping() -> None:
    with pytest.raises(ExportFailed) as failed:
        await _export(["c1", "c1", "c1", "c1"])
    assert failed.value.code == "BACKEND_ERROR"
    assert failed.value.status == 502
    assert ASKED == [None, "c1"]


async def test_limit_stops_fetching_once_enough_rows_came() -> None:
    CURSORS[:] = ["c1", "c2", "c3"]
    ASKED.clear()
    export = Export(SCHEMA, ViewPlan(VIEW, VIEW.columns, (), DOCUMENT), _no_context, limit=2)
    pages = [await export.first()] + [rows async for rows in export.rest()]
    assert pages == [[("a",)], [("a",)]]
    assert ASKED == [None, "c1"]


async def test_the_next_page_is_read_while_the_consumer_holds_one_and_never_two_ahead() -> None:
    CURSORS[:] = ["c1", "c2", "c3", "c4", None]
    ASKED.clear()
    export = Export(SCHEMA, ViewPlan(VIEW, VIEW.columns, (), DOCUMENT), _no_context)
    await export.first()
    asked_while_holding = []
    async for _ in export.rest():
        await asyncio.sleep(0.01)  # the consumer sends its page; the next one is read
        asked_while_holding.append(len(ASKED))
    assert ASKED == [None, "c1", "c2", "c3", "c4"]
    assert asked_while_holding == [3, 4, 5, 5]  # page n held while page n+1 was asked


async def test_a_consumer_that_stops_leaves_no_page_reading() -> None:
    CURSORS[:] = ["c1", "c2", "c3", "c4", None]
    ASKED.clear()
    export = Export(SCHEMA, ViewPlan(VIEW, VIEW.columns, (), DOCUMENT), _no_context)
    await export.first()
    pages = export.rest()
    await anext(pages)
    await pages.aclose()  # e.g. the client hung up
    await asyncio.sleep(0.01)
    assert ASKED == [None, "c1", "c2"]  # the page read ahead, and nothing after it


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("QUERY_TOO_COMPLEX", 400),  # a role's stricter limits refuse the view's page
        ("FORBIDDEN", 403),
        ("BACKEND_UNAVAILABLE", 503),
        ("BACKEND_TIMEOUT", 504),
        ("BACKEND_REJECTED", 502),
        ("INTERNAL_SERVER_ERROR", 500),
        ("SOMETHING_NEW", 500),
    ],
)
def test_a_failed_first_page_answers_the_status_its_code_means(code: str, status: int) -> None:
    assert ExportFailed("refused", code=code).status == status


@strawberry.type
class AnnouncingQuery:
    @strawberry.field
    async def things(self, info: strawberry.Info, first: int, after: str | None = None) -> Things:
        """Like `Query.things`, but tells the context its cursor first, then takes a while
        to resolve its nodes (as a real connection announces before its joins load)."""
        ASKED.append(after)
        cursor = CURSORS[len(ASKED) - 1]
        listener = info.context.page_listener
        if listener is not None:
            listener("things", cursor is not None, cursor)
        await asyncio.sleep(0.01)
        return Things(
            page_info=PageInfo(has_next_page=cursor is not None, end_cursor=cursor),
            nodes=[Thing(id="a")],
        )


ANNOUNCING = strawberry.Schema(query=AnnouncingQuery)


async def _gateway_context() -> Any:
    return ExportContext(crm=None, scm=None)  # type: ignore[arg-type]  # never loads


async def test_a_page_starts_as_soon_as_the_page_before_announces_its_cursor() -> None:
    CURSORS[:] = ["c1", "c2", "c3", None]
    ASKED.clear()
    plan = ViewPlan(VIEW, VIEW.columns, (), DOCUMENT)
    export = Export(ANNOUNCING, plan, _gateway_context)
    await export.first()
    assert ASKED == [None, "c1"]  # page 2 was asked while page 1 still resolved its nodes
    pages = [rows async for rows in export.rest()]
    assert ASKED == [None, "c1", "c2", "c3"]
    assert len(pages) == 3
    assert export.emitted == 4


async def test_announcing_pages_still_keep_at_most_two_pages_alive() -> None:
    CURSORS[:] = ["c1", "c2", "c3", "c4", "c5", None]
    ASKED.clear()
    export = Export(ANNOUNCING, ViewPlan(VIEW, VIEW.columns, (), DOCUMENT), _gateway_context)
    await export.first()
    asked_while_holding = []
    async for _ in export.rest():
        await asyncio.sleep(0.05)  # a slow consumer: pages read ahead would pile up
        asked_while_holding.append(len(ASKED))
    # holding page n, at most page n + 1 was asked: never two pages read ahead
    assert all(asked <= held + 1 for held, asked in enumerate(asked_while_holding, start=2))
    assert ASKED == [None, "c1", "c2", "c3", "c4", "c5"]
