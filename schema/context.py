"""The per-operation context every resolver reads: who asks, what they may do (the
operation's `RequestAnalysis`), and the loaders that fetch; `ExportContext` adds what a view
export's pages share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from resolvers.loaders import Loaders
from resolvers.ports import CrmPort, ErpPort
from resolvers.saga.service import OrderProcessService
from resolvers.sync.bus import ChangeBus
from schema.analysis import RequestAnalysis, RowFilters, unrestricted
from schema.cursor_key import PROCESS_KEY, CursorKey
from schema.principal import ANONYMOUS, Principal


class AnalysisError(RuntimeError):
    """A context was given a second analysis, or one after its loaders were built: a fault
    of the gateway's wiring (one context per operation, analysed before it executes)."""


@dataclass
class GatewayContext:
    """One operation's context, built once (never shared): who asks, what they may do, the
    loaders that fetch, paging limits and the order process.

    `analysis` (`schema.analysis.RequestAnalysis`) is what access control decided for this
    operation: given once before execution (`analysed`), then only read. Its `row_filters`
    are pushed into backend queries by the loaders, built on first use from it. Without
    access control (tests, an open gateway) there is none: no row filters, nothing denied.
    `order_process` is the order saga service used by mutations (None without it).
    """

    crm: CrmPort
    scm: ErpPort
    principal: Principal = ANONYMOUS
    analysis: RequestAnalysis | None = None
    max_first: int = 200
    default_first: int = 20
    request_id: str = "-"
    order_process: OrderProcessService | None = None
    cursor_key: CursorKey = field(default=PROCESS_KEY, repr=False)  # signs connection cursors
    backend_details: bool = False  # the caller is shown backends' own error messages
    request: Request | WebSocket | None = None
    response: Response | WebSocket | None = None
    # `Type.field` coordinates whose value disclosed finance data its rule alone does not
    # guard (amounts in approval reasons): the access extension audits them with the rest
    disclosed: set[str] = field(default_factory=set)
    # (owner, answer) per key: `schema.selection.remember`
    memo: dict[tuple[object, ...], tuple[object, object]] = field(default_factory=dict, repr=False)
    # subscriptions (schema.subscriptions): the bus processed changes arrive on, the
    # graphql-transport-ws connection_init payload, and when the caller's token ends (epoch s)
    change_bus: ChangeBus | None = field(default=None, repr=False)
    connection_params: object = field(default=None, repr=False)
    expires_at: float | None = None
    _loaders: Loaders | None = field(default=None, init=False, repr=False)

    def analysed(self, analysis: RequestAnalysis) -> None:
        """Give the context its operation's analysis: once, before any loader is built."""
        if self.analysis is analysis:
            return
        if self.analysis is not None:
            raise AnalysisError("this context already has its operation's analysis")
        if self._loaders is not None:
            raise AnalysisError("the loaders were built before the operation was analysed")
        self.analysis = analysis

    @property
    def row_filters(self) -> RowFilters:
        """The rows the caller may see (the analysis'), none without access control."""
        return {} if self.analysis is None else self.analysis.row_filters

    @property
    def denied(self) -> frozenset[str]:
        """The `Type.field` coordinates access control denies in this operation."""
        return frozenset() if self.analysis is None else self.analysis.denied

    def for_operation(self) -> GatewayContext:
        """A copy for one more operation of the same caller (a graphql-transport-ws
        connection serves several): no analysis yet, nothing read, nothing disclosed."""
        return replace(self, analysis=None, disclosed=set(), memo={})

    def release(self) -> None:
        """Drop what this operation read (its loaders, the memo), when it ends."""
        self._loaders = None
        self.memo.clear()

    def refresh(self) -> None:
        """Forget what was read (loaders, memo): a subscription reads each event's record
        afresh, as a new query would."""
        self._loaders = None
        self.memo.clear()

    @property
    def loaders(self) -> Loaders:
        """Built on first use, with the analysis' row filters (given before execution)."""
        if self._loaders is None:
            self._loaders = self._new_loaders(self.row_filters)
        return self._loaders

    def _new_loaders(self, filters: RowFilters) -> Loaders:
        return Loaders(self.crm, self.scm, row_filters=filters)


# (response key, hasNextPage, endCursor) of a root connection page
PageListener = Callable[[str, bool, str | None], None]


@dataclass
class ExportContext(GatewayContext):
    """The context of one page of a view export (`gateway.views.export`): it carries the
    export's one analysis (its view plan's), so no page analyses again.

    Root connections tell `page_listener` their page's cursor as soon as it is known, so
    the export starts its next page while this one resolves its nodes; `dimensions` are an
    earlier page's loaders whose reference data (customers, products, stock, warehouses)
    this page shares, read once per export rather than once per page.
    """

    page_listener: PageListener | None = field(default=None, repr=False)
    dimensions: Loaders | None = field(default=None, repr=False)

    def release(self) -> None:
        """As for any operation, and the page no longer announces."""
        self.page_listener = None
        super().release()

    def _new_loaders(self, filters: RowFilters) -> Loaders:
        loaders = super()._new_loaders(filters)
        if self.dimensions is not None:
            loaders.share_dimensions(self.dimensions)
        return loaders


Info = strawberry.Info[GatewayContext, None]


def make_context(
    *,
    crm: CrmPort,
    scm: ErpPort,
    principal: Principal = ANONYMOUS,
    row_filters: RowFilters | None = None,
    max_first: int = 200,
    default_first: int = 20,
    request_id: str = "-",
    order_process: OrderProcessService | None = None,
) -> GatewayContext:
    """A fresh context with fresh loaders, e.g. for `schema.execute(query, context_value=...)`.

    `row_filters` are for a schema without access control (an analysis that restricts
    rows and nothing else); with the access extension, leave them out: it analyses."""
    analysis = None if row_filters is None else unrestricted(principal, row_filters=row_filters)
    return GatewayContext(
        crm=crm,
        scm=scm,
        principal=principal,
        analysis=analysis,
        max_first=max_first,
        default_first=default_first,
        request_id=request_id,
        order_process=order_process,
    )
