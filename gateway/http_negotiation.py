"""GraphQL over HTTP: the response media type and status, and the request errors' shapes.

    application/graphql-response+json   when the client's Accept lists it: a request error
                                        (parse, validation, variable coercion, a limit refused
                                        before execution) is 400 without `data`
    application/json                    otherwise (legacy clients, */*, no Accept): 200, as
                                        the spec's watershed rules keep for those clients

strawberry's own request errors (an HTTPException: no query, unknown operation name, a GET
mutation) become GraphQL-shaped refusals: `{"errors": [{"message", "extensions": {"code"}}]}`;
a mutation over GET is 405 with `Allow: POST`. `OperationChoice` makes a document with
several operations and no `operationName` a request error, as the GraphQL spec's
GetOperation says (strawberry would run the first).
"""

from __future__ import annotations

from collections.abc import Iterator

from cross_web import HTTPException
from graphql import GraphQLError, OperationDefinitionNode
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult

from gateway.protection.http_guard import GRAPHQL_RESPONSE, RequestRefused, accepts_graphql_response

REQUEST_ERROR_FLAG = "graphql_request_error"


def is_request_error(result: ExecutionResult) -> bool:
    """True when the operation never executed: no data, and no error belongs to a field."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def shape_result(request: Request, result: ExecutionResult, body: GraphQLHTTPResponse) -> None:
    """Drop `data` from a request error's body for graphql-response+json clients (in place)."""
    if not is_request_error(result):
        return
    request.state.__setattr__(REQUEST_ERROR_FLAG, True)
    if accepts_graphql_response(request.headers.get("accept", "")):
        body.pop("data", None)


def negotiate(request: Request, response: Response) -> None:
    """Set the media type and, for a request error, the status of a GraphQL response."""
    if response.media_type == "text/html" or not isinstance(response.body, bytes):
        return
    if not accepts_graphql_response(request.headers.get("accept", "")):
        return
    response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
    batch = response.body[:1] == b"["
    flagged = getattr(request.state, REQUEST_ERROR_FLAG, False)
    if flagged and not batch and response.status_code == 200:
        response.status_code = 400


def refusal_for(error: HTTPException, method: str) -> RequestRefused:
    """strawberry's HTTPException as a GraphQL-shaped refusal with a precise code."""
    cause = error.__cause__
    if isinstance(cause, InvalidOperationTypeError) and method == "GET":
        return RequestRefused(
            405,
            "METHOD_NOT_ALLOWED",
            "Mutations are sent with POST; a GET may only carry a query.",
            headers={"Allow": "POST"},
        )
    if isinstance(cause, CannotGetOperationTypeError):
        return RequestRefused(400, "OPERATION_NOT_FOUND", error.reason)
    if error.status_code == 405:
        return RequestRefused(
            405, "METHOD_NOT_ALLOWED", error.reason, headers={"Allow": "GET, POST"}
        )
    if error.status_code == 404:
        return RequestRefused(404, "NOT_FOUND", error.reason)
    return RequestRefused(error.status_code, "BAD_REQUEST", error.reason)


class OperationChoice(SchemaExtension):
    """Refuses a document of several operations sent without `operationName` (BAD_REQUEST).

    An `operationName` naming no operation is refused earlier, by strawberry (OPERATION_NOT_FOUND).
    """

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        # strawberry's `operation_name` falls back to the first operation's name; what the
        # client sent is kept here
        named = getattr(ctx, "_provided_operation_name", None) is not None
        if document is not None and ctx.pre_execution_errors is None and not named:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                names = ", ".join(o.name.value if o.name else "(anonymous)" for o in operations)
                message = (
                    "Must provide operation name if query contains multiple operations; "
                    f"send `operationName` naming one of: {names[:200]}."
                )
                ctx.pre_execution_errors = [
                    GraphQLError(message, extensions={"code": "BAD_REQUEST"})
                ]
        yield
