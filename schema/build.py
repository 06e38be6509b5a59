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
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.root import Query
from schema.scalars import SCALAR_MAP

Extension = type[SchemaExtension] | Callable[[], SchemaExtension]


class CrossdockSchema(strawberry.Schema):
    """A strawberry Schema that leaves error reporting to the gateway's error extension."""

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
