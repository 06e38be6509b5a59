"""The schema factory: the one graph, with whatever extensions the gateway attaches.

    schema = build_schema(extensions=[ErrorFormatting, AccessControl(policy)])

`schema/` never imports `gateway/`: access control, limits and error formatting arrive as
strawberry SchemaExtensions. Errors are not logged here; the gateway's error extension logs
the unexpected ones once, with the request id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.execution.middleware import MiddlewareManager, get_middleware_resolvers
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.root import Query
from schema.scalars import SCALAR_MAP

Extension = type[SchemaExtension] | Callable[[], SchemaExtension]


class DeferredMiddleware(MiddlewareManager):
    """The extensions' per-field `resolve` hooks, chosen when execution starts.

    strawberry builds the middleware before parsing, from every extension that defines
    `resolve`; graphql-core then calls it for every field of every request. Here an extension
    may also define `needs_field_hook() -> bool`, asked once, at the first field (after every
    `on_execute` ran): when no extension needs its hook for this operation, graphql-core
    resolves every field directly (it skips a falsy manager), with no per-field call at all.
    """

    def __init__(self, extensions: Sequence[SchemaExtension]) -> None:
        # Until the decision every hook is installed, as strawberry would install it: a
        # graphql-core that reads the manager some other way still runs every hook (safe).
        self._candidates = tuple(e for e in extensions if e._implements_resolve())
        super().__init__(*self._candidates)
        self._decided = not self._candidates

    def _decide(self) -> None:
        active = tuple(e for e in self._candidates if _needs_hook(e))
        self.middlewares = active
        self._middleware_resolvers = list(get_middleware_resolvers(active)) if active else None
        self._decided = True

    def __bool__(self) -> bool:
        return self._middleware_resolvers is not None

    def get_field_resolver(self, field_resolver: Any) -> Any:
        if not self._decided:
            self._decide()
        return super().get_field_resolver(field_resolver)


def _needs_hook(extension: SchemaExtension) -> bool:
    asks = getattr(extension, "needs_field_hook", None)
    return True if asks is None else bool(asks())


class CrossdockSchema(strawberry.Schema):
    """A strawberry Schema that leaves error reporting to the gateway's error extension,
    and runs per-field hooks only for operations that need them (`DeferredMiddleware`)."""

    def _get_middleware_manager(self, extensions: list[SchemaExtension]) -> MiddlewareManager:
        return DeferredMiddleware(extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


def build_schema(
    *,
    extensions: Sequence[Extension] = (),
    mutation: type[Any] | None = None,
    query: type[Any] = Query,
) -> CrossdockSchema:
    """The Crossdock schema; `mutation` is the Mutation root once the order saga provides it.

    With the order process: `build_schema(mutation=OrderMutations, query=QueryWithOrderProcess)`.
    """
    return CrossdockSchema(
        query=query,
        mutation=mutation,
        extensions=list(extensions),
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
