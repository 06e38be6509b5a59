"""The Int-argument range check walks a repeated document once (its plan is kept per parsed
document), and still reads each request's own variables against it."""

from __future__ import annotations

from typing import Any

import pytest

import gateway.protection.argument_ranges as ranges
from tests.support.stack import GraphQLClient

QUERY = "query($n: Int) { shipments(first: $n) { nodes { id } } }"


async def test_a_repeated_document_is_walked_once_and_checked_with_each_requests_variables(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    walks: list[object] = []
    visit = ranges.visit

    def counted(document: Any, visitor: Any) -> Any:
        walks.append(document)
        return visit(document, visitor)

    monkeypatch.setattr(ranges, "visit", counted)
    ranges._PLANS.clear()
    codes = []
    for n in (2, 5000, 3, -1, 1):
        body = await gql.query(QUERY, n=n)
        codes.append(body["errors"][0]["extensions"]["code"] if "errors" in body else "ok")
    assert codes == ["ok", "BAD_USER_INPUT", "ok", "BAD_USER_INPUT", "ok"]
    assert len(walks) == 1


async def test_an_out_of_range_literal_is_refused_on_every_request_of_its_document(
    gql: GraphQLClient,
) -> None:
    query = "{ shipments(first: 18446744073709551616) { nodes { id } } }"
    for _ in range(2):
        body = await gql.query(query)
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
        assert body["errors"][0]["locations"] == [{"line": 1, "column": 20}]
