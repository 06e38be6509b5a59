"""The per-request context every resolver reads: who asks, and the loaders that fetch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import strawberry

from resolvers.loaders import Loaders
from resolvers.ports import CrmPort, ErpPort
from schema.cursor_key import PROCESS_KEY, CursorKey
from schema.principal import ANONYMOUS, Principal

# {"Shipment": {"carrier": "DHL"}}: rows a caller may see; a None value means no rows at all.
RowFilters = Mapping[str, Mapping[str, str | None]]


@dataclass
class GatewayContext:
    """Built once per request (never shared): principal, row rules, loaders, paging limits.

    `row_filters` come from the access policy and are pushed into backend queries by the
    loaders; `order_process` is the order saga service used by mutations.
    """

    crm: CrmPort
    scm: ErpPort
    principal: Principal = ANONYMOUS
    row_filters: RowFilters = field(default_factory=dict)
    max_first: int = 200
    default_first: int = 20
    request_id: str = "-"
    order_process: Any = None
    cursor_key: CursorKey = field(default=PROCESS_KEY, repr=False)  # signs connection cursors
    backend_details: bool = False  # the caller is shown backends' own error messages
    request: Any = None
    response: Any = None
    # `Type.field` coordinates access control denies in this operation: never prefetched
    denied: frozenset[str] = frozenset()
    # `Type.field` coordinates whose value disclosed finance data its rule alone does not
    # guard (amounts in approval reasons): the access extension audits them with the rest
    disclosed: set[str] = field(default_factory=set)
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)  # per request
    # told (response key, hasNextPage, endCursor) by root connections as soon as their page
    # is known: a view export starts its next page then, while this one resolves its nodes
    page_listener: Callable[[str, bool, str | None], None] | None = field(default=None, repr=False)
    # an earlier page's loaders whose reference data this request's pages share (exports)
    dimensions: Loaders | None = field(default=None, repr=False)
    # subscriptions (schema.subscriptions): the bus processed changes arrive on, the
    # graphql-transport-ws connection_init payload, and when the caller's token ends (epoch s)
    change_bus: Any = field(default=None, repr=False)
    connection_params: Any = field(default=None, repr=False)
    expires_at: float | None = None
    _loaders: Loaders | None = field(default=None, repr=False)
    _loaders_filters: RowFilters | None = field(default=None, repr=False)

    def release(self) -> None:
        """Drop what this operation read (its loaders, the memo): for a context that outlives
        its operation, such as the first page of an export. The first release keeps the
        loaders as `dimensions`, the reference data later pages share."""
        if self.dimensions is None:
            self.dimensions = self._loaders
        self.page_listener = None
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
        """Built on first use, so row filters set by an extension before execution apply;
        built again (empty caches) if the row filters are replaced after that."""
        if self._loaders is None or self._loaders_filters is not self.row_filters:
            self._loaders = Loaders(self.crm, self.scm, row_filters=self.row_filters)
            self._loaders_filters = self.row_filters
            if self.dimensions is not None:
                self._loaders.share_dimensions(self.dimensions)
        return self._loaders


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
    order_process: Any = None,
) -> GatewayContext:
    """A fresh context with fresh loaders, e.g. for `schema.execute(query, context_value=...)`."""
    filters = row_filters or {}
    return GatewayContext(
        crm=crm,
        scm=scm,
        principal=principal,
        row_filters=filters,
        max_first=max_first,
        default_first=default_first,
        request_id=request_id,
        order_process=order_process,
    )
