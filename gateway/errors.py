"""How errors reach clients: expected ones with their code, unexpected ones masked and logged.

    CrossdockError (resolvers/errors.py)  -> its message, extensions = error.to_extensions()
                                            e.g. {"code": "BACKEND_UNAVAILABLE", "system": "scm"}
    GraphQL's own errors (parse, validation, variables) -> as graphql-core wrote them, with a code
    anything else, including GraphQL errors raised while executing without a code (a value
    its type cannot represent)            -> "Unexpected error.", code INTERNAL_SERVER_ERROR,
                                            logged with the request id (also in extensions)

No stack trace or exception text of an unexpected error ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from resolvers.errors import CrossdockError

logger = logging.getLogger("crossdock.errors")
MASKED = "Unexpected error."


def _request_id(context: Any) -> str:
    return str(getattr(context, "request_id", None) or "-")


def format_error(error: GraphQLError, request_id: str) -> GraphQLError:
    """The client-facing version of one error."""
    original = error.original_error
    if isinstance(original, CrossdockError):
        extensions = {**(error.extensions or {}), **original.to_extensions()}
        return _copy(error, original.message, extensions)
    coded = "code" in (error.extensions or {})
    # A GraphQL error raised while executing (it has a path) that carries no code is the
    # server's: e.g. a resolver value its type cannot represent. It is masked like any fault.
    if (original is None or isinstance(original, GraphQLError)) and (coded or not error.path):
        extensions = dict(error.extensions or {})
        parse = error.message.startswith("Syntax Error")
        extensions.setdefault(
            "code", "GRAPHQL_PARSE_FAILED" if parse else "GRAPHQL_VALIDATION_FAILED"
        )
        return _copy(error, error.message, extensions)
    logger.error(
        "unexpected error at %s (request %s)",
        ".".join(str(p) for p in error.path or ()) or "-",
        request_id,
        exc_info=original,
    )
    return _copy(error, MASKED, {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id})


def _copy(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class ErrorFormatting(SchemaExtension):
    """Rewrites the operation's errors for clients once execution is over.

    Listed first among the extensions, so it sees the errors every other extension added.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            request_id = _request_id(self.execution_context.context)
            result.errors = [format_error(error, request_id) for error in errors]
