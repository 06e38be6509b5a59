"""The per-request context every resolver reads: who asks, what they may read (`Access`),
and the loaders that fetch; `ExportContext` adds what a view export's pages share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from resolvers.loaders import Loaders
from resolvers.ports import CrmPort, ErpPort
from resolvers.saga.service import OrderProcessService
from resolvers.sync.bus import ChangeBus
from schema.cursor_key import PROCESS_KEY, CursorKey
from schema.principal import ANONYMOUS, Principal

# {"Shipment": {"carrier": "DHL"}}: rows a caller may see; a None value means no rows at all.
RowFilters = Mapping[str, Mapping[str, str | None]]


@dataclass(frozen=True)
class Access:
    """What the access policy decided for one request: computed once, then only read.

    `row_filters` follow from the caller alone: the gateway computes them when it builds the
    request's context (`gateway.app`, `gateway.subscriptions`). The rest follows from the
    operation and is set once before execution by the access extension, which walks the
    whole document: the `Type.field` coordinates it reaches that are `denied` (no resolver
    runs for them and no load starts for them: `schema.selection.prefetches`), those that
    need the per-field check (`attention`: denied, masked, row-filtered, audited,
    introspection), and whether the walk was `complete` (False: every field is checked).
    """

    row_filters: RowFilters = field(default_factory=dict)
    denied: frozenset[str] = frozenset()
    attention: frozenset[str] = frozenset()
    complete: bool = False


@dataclass
class GatewayContext:
    """One request's context, built once (never shared): who asks, what they may read,
    the loaders that fetch, paging limits and the order process.

    `access.row_filters` are pushed into backend queries by the loaders; `order_process` is
    the order saga service used by mutations (None when the gateway runs without it).
    """

    crm: CrmPort
    scm: ErpPort
    principal: Principal = ANONYMOUS
    access: Access = field(default_factory=Access)
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
    _loaders: Loaders | None = field(default=None, repr=False)
    _loaders_filters: RowFilters | None = field(default=None, repr=False)

    def release(self) -> None:
        """Drop what this operation read (its loaders, the memo), when it ends."""
        self._loaders = None
        self._loaders_filters = None
        self.memo.clear()

    def refresh(self) -> None:
        """Forget what was read (loaders, memo): a subscription reads each event's record
        afresh, as a new query would."""
        self._loaders = None
        self.memo.clear()

    @property
    def loaders(self) -> Loaders:
        """Built on first use, so the row filters the context carries when execution starts
        apply; built again (empty caches) if they are replaced after that."""
        filters = self.access.row_filters
        if self._loaders is None or self._loaders_filters is not filters:
            self._loaders = self._new_loaders(filters)
            self._loaders_filters = filters
        return self._loaders

    def _new_loaders(self, filters: RowFilters) -> Loaders:
        return Loaders(self.crm, self.scm, row_filters=filters)


# (response key, hasNextPage, endCursor) of a root connection page
PageListener = Callable[[str, bool, str | None], None]


@dataclass
class ExportContext(GatewayContext):
    """The context of one page of a view export (`gateway.views.export`).

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
    """A fresh context with fresh loaders, e.g. for `schema.execute(query, context_value=...)`."""
    filters = row_filters or {}
    return GatewayContext(
        crm=crm,
        scm=scm,
        principal=principal,
        access=Access(row_filters=filters),
        max_first=max_first,
        default_first=default_first,
        request_id=request_id,
        order_process=order_process,
    )
