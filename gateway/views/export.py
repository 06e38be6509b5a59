"""Running a view page by page through the schema, exactly as `/graphql` runs an operation.

Every page is one `schema.execute` with the request's context, given fresh loaders per page
(so memory stays bounded however long the export): the access extension, masks and row
rules apply as for any GraphQL request. The next page is read while the consumer encodes
and sends the current one (one page ahead, never more), so at most two pages are held.

A page whose result has any error is not turned into rows, even when `data` is partial: with
a backend down, a column it serves (e.g. `available_stock` from ERPNext) would be null in
`data`, and a null cell must mean "no value", never "could not read". So the export fails
with the first error's code (an HTTP status before the first byte, an error record after).
Pagination ends on `hasNextPage: false`, a null cursor, `limit`, or fails when the cursor
does not move.

    pages = Export(schema, plan, contexts, updated_since=None, limit=None)
    first = await pages.first()      # ExportFailed before any byte is sent → an HTTP error
    async for rows in pages.rest(): ...
"""

from __future__ import annotations

import asyncio
import gc
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import strawberry

from gateway.views.flatten import Flattener, Row
from gateway.views.plan import ViewPlan
from gateway.views.validate import INCREMENTAL_VARIABLE
from resolvers.errors import CrossdockError
from schema.context import ExportContext, GatewayContext
from schema.scalars import serialize_datetime

# The context of the next page: a fresh_context copy of the export request's.
ContextFactory = Callable[[], Awaitable[ExportContext]]

# Rows between full garbage collections (a few % of an export's time): counted in rows, not
# pages, so that the garbage between two collections is the same whatever the page size.
COLLECT_EVERY_ROWS = 5_000
ALIVE = 2  # pages read or held at once: the one being sent and the next (memory: 2 pages)
_STATUS = {
    "BAD_USER_INPUT": 400,
    "BAD_CURSOR": 400,
    # A role's own operation limits (gateway.protection.limits.LimitPolicy) may refuse a view's page
    # that the default limits, checked at startup, allow: the caller's limit, not a fault.
    "QUERY_TOO_COMPLEX": 400,
    "QUERY_TOO_DEEP": 400,
    "QUERY_TOO_LARGE": 400,
    "TOO_MANY_ALIASES": 400,
    "TOO_MANY_ROOT_FIELDS": 400,
    "FORBIDDEN": 403,
    # the view reads something this gateway does not run ([sync], the order process)
    "SYNC_OFF": 404,
    "NOT_CONFIGURED": 404,
    "OPERATION_FORBIDDEN": 403,
    "BACKEND_TIMEOUT": 504,
    "BACKEND_UNAVAILABLE": 503,
    "BACKEND_AUTH": 502,
    "BACKEND_REJECTED": 502,
    "BACKEND_ERROR": 502,
}


class ExportFailed(CrossdockError):
    """A page of a view could not be read; carries the first GraphQL error's code."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def status(self) -> int:
        return _STATUS.get(self.code, 500)


def fresh_context(context: GatewayContext) -> ExportContext:
    """The request's context for one more page: same caller, new loaders and memo.

    Authentication, rate limiting and the access analysis happened once, for the export
    request (the analysis is the view plan's, made for the document every page runs); the
    caches of orders and shipments start empty so that a page's objects die with the page,
    while reference data (customers, products, stock, warehouses) is shared with the first
    page's loaders (`Loaders.share_dimensions`): read once per export, not once per page.
    """
    return ExportContext(  # the caller and its settings; loaders, memo, disclosures anew
        crm=context.crm,
        scm=context.scm,
        principal=context.principal,
        max_first=context.max_first,
        default_first=context.default_first,
        request_id=context.request_id,
        order_process=context.order_process,
        cursor_key=context.cursor_key,
        backend_details=context.backend_details,
        request=context.request,
        response=context.response,
        analysis=context.analysis,  # the export's one analysis (its plan's), for every page
        dimensions=context.loaders,  # the export's reference data, shared by every page
    )


def watermark_now(clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> str:
    """The export start, to the second (backends compare modification times in seconds)."""
    return serialize_datetime(clock().astimezone(UTC).replace(microsecond=0))


@dataclass
class Export:
    """The pages of one view export for one caller.

    A page is started as soon as the one before it knows its cursor: the root connection
    announces `hasNextPage` / `endCursor` (GatewayContext.page_listener) before its nodes are
    resolved, so the next page's backend calls overlap this page's work. At most `ALIVE`
    pages are read or held at once; pages are handed out in order. Without
    an announcement (a limit, or a connection that does not announce) the next page starts
    when the consumer takes one.
    """

    schema: strawberry.Schema
    plan: ViewPlan
    contexts: ContextFactory
    updated_since: datetime | None = None
    limit: int | None = None
    emitted: int = 0
    _after: str | None = field(default=None, repr=False)
    _done: bool = field(default=False, repr=False)
    _pending: deque[asyncio.Task[list[Row]]] = field(default_factory=deque, repr=False)
    _holding: bool = field(default=False, repr=False)  # the consumer has a page in hand
    _waiting: bool = field(default=False, repr=False)  # a cursor is known, no room to start

    def __post_init__(self) -> None:
        self.flattener = Flattener(self.plan.view, self.plan.columns)

    def _variables(self) -> dict[str, Any]:
        first = self.plan.view.page_size
        if self.limit is not None:  # no need to fetch more nodes than rows still wanted
            first = max(1, min(first, self.limit - self.emitted))
        variables: dict[str, Any] = {"first": first, "after": self._after}
        if self.updated_since is not None:
            variables[INCREMENTAL_VARIABLE] = serialize_datetime(self.updated_since)
        return variables

    def _start(self) -> None:
        """Start the next page, if there is one and room for it: at most `ALIVE` pages are
        read or held at a time (the one the consumer sends counts)."""
        if self._done or len(self._pending) + self._holding >= ALIVE:
            self._waiting = not self._done
            return
        self._waiting = False
        announced: list[bool] = []
        task = asyncio.ensure_future(self._page(self._variables(), announced))
        self._pending.append(task)

    def _announce(self, announced: list[bool], key: str, more: bool, cursor: str | None) -> None:
        """A page's connection knows its cursor: advance, and start the next page now."""
        if key != self.plan.view.connection or announced or self.limit is not None:
            return
        announced.append(True)
        if more and cursor is not None and cursor == self._after:
            return  # a stalled cursor: the page's own check reports it
        self._after = cursor
        self._done = not more or cursor is None
        self._start()

    async def _page(self, variables: dict[str, Any], announced: list[bool]) -> list[Row]:
        context = await self.contexts()
        context.page_listener = partial(self._announce, announced)
        # the schema releases the page's context when the operation ends (ReleaseContext)
        result = await self.schema.execute(
            self.plan.document, variable_values=variables, context_value=context
        )
        if result.errors:
            first = result.errors[0]
            code = str((first.extensions or {}).get("code", "INTERNAL_SERVER_ERROR"))
            raise ExportFailed(first.message, code=code)
        data: Mapping[str, Any] = result.data or {}
        info = (data.get(self.plan.view.connection) or {}).get("pageInfo") or {}
        cursor, more = info.get("endCursor"), bool(info.get("hasNextPage"))
        if more and cursor is not None and cursor == variables["after"]:
            raise ExportFailed(
                "The source's pagination did not advance; the export stopped.",
                code="BACKEND_ERROR",
            )
        if not announced:
            self._after = cursor
            self._done = not more or cursor is None
        rows = self.flattener.rows(data)
        result.data = None  # strawberry's execution context (a cycle) still holds the result
        return rows

    def _take(self, rows: list[Row]) -> list[Row]:
        """A page's rows handed out, in order: the limit applies here."""
        if self.limit is not None:
            rows = rows[: self.limit - self.emitted]
            self._done = self._done or self.emitted + len(rows) >= self.limit
        self.emitted += len(rows)
        return rows

    async def _next(self) -> list[Row]:
        self._holding = False  # the consumer is done with the page it had
        if not self._pending or self._waiting:  # not started early: start it now
            self._start()
        task = self._pending[0]
        try:
            rows = self._take(await task)
        finally:
            self._pending.popleft()
        self._holding = True
        if not self._pending:  # no announcement from this page: the next starts now
            self._start()
        return rows

    async def first(self) -> list[Row]:
        """The first page; raises ExportFailed so the caller can still answer with a status."""
        try:
            return await self._next()
        except BaseException:
            self.close()
            raise

    async def rest(self) -> AsyncGenerator[list[Row], None]:
        """The following pages, each read while the consumer handles the one before it.

        A consumer that stops (a client that hung up) leaves at most one page read for
        nobody; it is cancelled when the iteration is closed.
        """
        collected = self.emitted
        try:
            while self._pending:
                rows = await self._next()
                await asyncio.sleep(0)  # let the next page send its first backend call
                yield rows
                if self.emitted - collected >= COLLECT_EVERY_ROWS:
                    # Executing a page leaves small reference cycles, and `crossdock serve`
                    # makes full collections rare (gateway.runtime.tune_gc): measured at 100k
                    # rows, the peak grows by ~14 % without this and stays flat with it.
                    collected = self.emitted
                    gc.collect()
        finally:
            self.close()

    def close(self) -> None:
        """Cancel the pages read for nobody."""
        self._done = True
        while self._pending:
            task = self._pending.popleft()
            task.cancel()
            # a page that failed for nobody (the consumer stopped): its error was the
            # consumer's to see, not "Task exception was never retrieved" in the log
            task.add_done_callback(_retrieve)


def _retrieve(task: asyncio.Task[list[Row]]) -> None:
    if not task.cancelled():
        task.exception()
