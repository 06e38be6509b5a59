"""What clients see of an error: expected ones with their code, everything else masked."""

from __future__ import annotations

from graphql import GraphQLError

from gateway.errors import MASKED, format_error
from resolvers.errors import BackendUnavailable


def test_a_validation_error_keeps_its_message_and_gets_a_code() -> None:
    error = format_error(GraphQLError("Cannot query field 'x' on type 'Query'."), "r1")
    assert error.message == "Cannot query field 'x' on type 'Query'."
    assert error.extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}


def test_a_syntax_error_is_a_parse_failure() -> None:
    error = format_error(GraphQLError("Syntax Error: Unexpected '}'."), "r1")
    assert error.extensions == {"code": "GRAPHQL_PARSE_FAILED"}


def test_a_backend_error_keeps_its_code_and_system_with_a_neutral_message() -> None:
    raised = BackendUnavailable("ERPNext returned 503 for GET /api/x", system="scm", status=503)
    error = format_error(GraphQLError(raised.message, path=["order"], original_error=raised), "r1")
    assert error.message == (
        "The ERP is unavailable; retry later (details are logged under request id r1)."
    )
    assert error.extensions == {"code": "BACKEND_UNAVAILABLE", "system": "scm", "requestId": "r1"}


def test_an_uncoded_graphql_error_raised_while_executing_is_masked_as_the_servers() -> None:
    raised = GraphQLError("Enum 'FulfillmentStatus' cannot represent value: 1")
    located = GraphQLError(raised.message, path=["order", "fulfillment"], original_error=raised)
    error = format_error(located, "r7")
    assert error.message == MASKED
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR", "requestId": "r7"}
    assert error.path == ["order", "fulfillment"]


def test_a_coded_graphql_error_raised_while_executing_keeps_its_code() -> None:
    refused = GraphQLError("Operation refused.", path=["x"], extensions={"code": "FORBIDDEN"})
    error = format_error(refused, "r1")
    assert error.message == "Operation refused."
    assert error.extensions == {"code": "FORBIDDEN"}
