"""The schema factory: the one graph, with whatever extensions the gateway attaches.

    schema = build_schema(extensions=[ErrorFormatting, AccessControl(policy)])

`schema/` never imports `gateway/`: access control, limits and error formatting arrive as
strawberry SchemaExtensions. Errors are not logged here; the gateway's error extension logs
the unexpected ones once, with the request id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.execution.middleware import MiddlewareManager
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.execution import BatchedExecutionContext, DeferredMiddleware
from schema.root import Query
from schema.scalars import SCALAR_MAP

Extension = type[SchemaExtension] | Callable[[], SchemaExtension]


__all__ = ["CrossdockSchema", "DeferredMiddleware", "ReleaseContext", "build_schema"]


class ReleaseContext(SchemaExtension):
    """When an operation ends, its context drops what it read (`GatewayContext.release`).

    graphql-core's executor and strawberry's execution context refer to themselves (bound
    methods kept on the executor), and through them to the context: without this, every
    operation's loaders and records would wait for a full collection, which on a heap grown
    by concurrent load takes hundreds of milliseconds.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        release = getattr(self.execution_context.context, "release", None)
        if release is not None:
            release()


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
    batched: bool = True,
    subscription: type[Any] | None = None,
) -> CrossdockSchema:
    """The Crossdock schema; `mutation` is the Mutation root once the order saga provides it.

    With the order process: `build_schema(mutation=OrderMutations, query=QueryWithOrderProcess)`.
    Queries run batched (`schema.execution`); `batched=False` leaves them to graphql-core's
    own per-field execution, as the reference the batched executor is tested against.
    `subscription` is the Subscription root (schema.subscriptions) when the gateway serves it.
    """
    return CrossdockSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        extensions=[ReleaseContext, *extensions],
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        execution_context_class=BatchedExecutionContext if batched else None,
    )
