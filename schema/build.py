"""The schema factory: the one graph, with whatever extensions the gateway attaches.

    schema = build_schema(extensions=[ErrorFormatting, AccessControl(policy)])

`schema/` never imports `gateway/`: access control, limits and error formatting arrive as
strawberry SchemaExtensions. Errors are not logged here; the gateway's error extension logs
the unexpected ones once, with the request id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import strawberry
from graphql import GraphQLError, print_schema
from graphql.execution.middleware import MiddlewareManager
from strawberry.extensions import SchemaExtension
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from schema.context import GatewayContext
from schema.execution import BatchedExecutionContext, DeferredMiddleware
from schema.federation import FEDERATION_VERSION, resolve_entities
from schema.root import Query
from schema.scalars import SCALAR_MAP

Extension = type[SchemaExtension] | Callable[[], SchemaExtension]

# What declaring `@key` on the entity types adds to a strawberry schema.
FEDERATION_NAMES = frozenset({"key", "_FieldSet"})


__all__ = [
    "CrossdockSchema",
    "CrossdockSubgraphSchema",
    "DeferredMiddleware",
    "ReleaseContext",
    "build_schema",
]


class ReleaseContext(SchemaExtension):
    """When an operation ends, its context drops what it read (`GatewayContext.release`).

    graphql-core's executor and strawberry's execution context refer to themselves (bound
    methods kept on the executor), and through them to the context: without this, every
    operation's loaders and records would wait for a full collection, which on a heap grown
    by concurrent load takes hundreds of milliseconds.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, GatewayContext):
            context.release()


class CrossdockSchema(strawberry.Schema):
    """A strawberry Schema that leaves error reporting to the gateway's error extension,
    and runs per-field hooks only for operations that need them (`DeferredMiddleware`).

    The entity types carry their federation `@key`s (`schema.federation`); the standalone
    graph has no use for them: it drops the federation vocabulary (the `@key` directive and
    its `_FieldSet` scalar) from the executable schema, so that introspection and `sdl()`
    show only Crossdock's own graph, and does not warn about them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not isinstance(self, strawberry.federation.Schema):
            self._drop_federation_vocabulary()

    def _drop_federation_vocabulary(self) -> None:
        graph = self._schema
        graph.directives = tuple(d for d in graph.directives if d.name not in FEDERATION_NAMES)
        for name in FEDERATION_NAMES:
            graph.type_map.pop(name, None)

    def _get_middleware_manager(self, extensions: list[SchemaExtension]) -> MiddlewareManager:
        return DeferredMiddleware(extensions)

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        """strawberry's `stream` (subscriptions), each operation on its own context.

        A graphql-transport-ws connection has one context and runs every operation it
        carries with it; an operation's analysis, loaders and memo are its own, so each
        runs on a copy for the same caller (`GatewayContext.for_operation`).
        """
        if isinstance(context_value, GatewayContext):
            context_value = context_value.for_operation()
        return await super().stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None

    def _warn_for_federation_directives(self) -> None:
        return None

    def sdl(self) -> str:
        """The schema's SDL, as a client's tools would print it from introspection."""
        return print_schema(self._schema)


class CrossdockSubgraphSchema(CrossdockSchema, strawberry.federation.Schema):
    """The same graph as an Apollo Federation v2 subgraph: `_service { sdl }` and
    `_entities`, whose representations resolve through the request's loaders, batched."""

    async def entities_resolver(  # type: ignore[override]
        self, info: strawberry.Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        return await resolve_entities(info, representations)

    def sdl(self) -> str:
        """The subgraph SDL, with its `@link` and `@key`s: what `_service { sdl }` answers."""
        return self.as_str()


def build_schema(
    *,
    extensions: Sequence[Extension] = (),
    mutation: type[Any] | None = None,
    query: type[Any] = Query,
    batched: bool = True,
    subscription: type[Any] | None = None,
    federation: bool = False,
) -> CrossdockSchema:
    """The Crossdock schema; `mutation` is the Mutation root once the order saga provides it.

    With the order process: `build_schema(mutation=OrderMutations, query=QueryWithOrderProcess)`.
    Queries run batched (`schema.execution`); `batched=False` leaves them to graphql-core's
    own per-field execution, as the reference the batched executor is tested against.
    `subscription` is the Subscription root (schema.subscriptions) when the gateway serves it.
    `federation` builds it as a Federation v2 subgraph (`schema.federation`).
    """
    options: dict[str, Any] = {
        "query": query,
        "mutation": mutation,
        "subscription": subscription,
        "extensions": [ReleaseContext, *extensions],
        "config": StrawberryConfig(scalar_map=SCALAR_MAP),
        "execution_context_class": BatchedExecutionContext if batched else None,
    }
    if federation:
        return CrossdockSubgraphSchema(federation_version=FEDERATION_VERSION, **options)
    return CrossdockSchema(**options)
