"""How errors reach clients: expected ones with their code, unexpected ones masked and logged.

    CrossdockError (resolvers/errors.py)  -> its message, extensions = error.to_extensions()
    BackendError                          -> a neutral message naming the system and the
                                            request id, extensions {code, system, requestId};
                                            the backend's own message (path, text) is logged
                                            with the request id, and shown only to callers
                                            whose context says `backend_details` (roles in
                                            `[policy] backend_detail_roles`, none by default)
    GraphQL's own errors (parse, validation, variables) -> as graphql-core wrote them, with a code
    anything else, including GraphQL errors raised while executing without a code (a value
    its type cannot represent)            -> "Unexpected error.", code INTERNAL_SERVER_ERROR,
                                            logged with the request id (also in extensions)

No stack trace or exception text of an unexpected error ever reaches a client. Outside the
GraphQL app, `UnexpectedErrors` (an ASGI middleware just inside the request id) answers any
exception that escapes a route with a JSON 500 carrying the request id, and `http_error`
answers starlette's own HTTP errors (unknown route, wrong method) GraphQL-shaped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from gateway.protection.http_guard import RequestRefused, refusal_response, send_refusal
from resolvers.errors import BackendError, CrossdockError, neutral_message
from schema.context import GatewayContext

logger = logging.getLogger("crossdock.errors")
MASKED = "Unexpected error."


def _request_id(context: object) -> str:
    return context.request_id if isinstance(context, GatewayContext) else "-"


def backend_details(context: object) -> bool:
    """Whether this request's caller is shown backends' own error messages."""
    return isinstance(context, GatewayContext) and context.backend_details


def format_error(error: GraphQLError, request_id: str, *, details: bool = False) -> GraphQLError:
    """The client-facing version of one error (`details`: show backends' own messages)."""
    original = error.original_error
    if isinstance(original, BackendError):
        return _backend_error(error, original, request_id, details)
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


def _backend_error(
    error: GraphQLError, original: BackendError, request_id: str, details: bool
) -> GraphQLError:
    where = ".".join(str(p) for p in error.path or ()) or "-"
    code, system = original.code, original.system
    logger.warning("%s from %s at %s (request %s): %s", code, system, where, request_id, original)
    extensions: dict[str, Any] = {"code": code, "system": system, "requestId": request_id}
    if original.public:
        return _copy(error, original.message, extensions)
    if details:
        return _copy(error, original.message, {**original.to_extensions(), **extensions})
    return _copy(error, neutral_message(code, system, request_id), extensions)


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
            context = self.execution_context.context
            request_id, details = _request_id(context), backend_details(context)
            result.errors = [format_error(e, request_id, details=details) for e in errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result a subscription streams (WebSocket, SSE) is rewritten the same way."""
        errors = getattr(result, "errors", None)
        if errors:
            context = self.execution_context.context
            request_id, details = _request_id(context), backend_details(context)
            result.errors = [format_error(e, request_id, details=details) for e in errors]
        yield


def unformatted(error: GraphQLError) -> bool:
    """An error ErrorFormatting never saw: one raised by an extension before execution, which
    strawberry turns into an error carrying the exception's own text."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class UnexpectedErrors:
    """The last word on an exception no route handled: a JSON 500 with the request id.

    Placed just inside `RequestIdMiddleware`, so the id is known and echoed. Once a response
    has started (a streamed export) nothing can be sent instead: the error is logged and
    re-raised, and the server ends the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            request_id = str(scope.get("state", {}).get("request_id", "-"))
            logger.exception("unhandled error on %s (request %s)", scope["path"], request_id)
            if started:
                raise
            refusal = RequestRefused(500, "INTERNAL_SERVER_ERROR", MASKED, requestId=request_id)
            await send_refusal(refusal, Headers(scope=scope), send)


async def http_error(request: Request, error: Exception) -> Response:
    """starlette's HTTPException (404 for an unknown route, 405 for a method) as JSON."""
    assert isinstance(error, HTTPException)
    codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
    code = codes.get(error.status_code, "BAD_REQUEST")
    refusal = RequestRefused(
        error.status_code, code, error.detail, headers=dict(error.headers or {})
    )
    return refusal_response(refusal)
