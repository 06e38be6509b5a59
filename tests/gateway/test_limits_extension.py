from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import strawberry
from graphql import get_introspection_query
from strawberry.extensions import SchemaExtension

from gateway.protection import limits
from gateway.protection.limits import LimitPolicy, Limits, OperationLimits
from schema.context import GatewayContext
from schema.principal import Principal


@dataclass
class Context(GatewayContext):
    """The gateway's context (no connector: nothing here loads), with the resolvers' calls."""

    crm: Any = None
    scm: Any = None
    calls: list[str] = field(default_factory=list)


@strawberry.type
class Warehouse:
    id: strawberry.ID


@strawberry.type
class Query:
    @strawberry.field
    def warehouses(self, info: strawberry.Info[Context, None], first: int = 20) -> list[Warehouse]:
        info.context.calls.append("warehouses")
        return [Warehouse(id=strawberry.ID(str(n))) for n in range(min(first, 3))]


POLICY = LimitPolicy(
    default=Limits(max_aliases=2, max_cost=100),
    by_role={"admin": Limits(max_aliases=50, max_cost=100_000)},
)


def make_schema(*extensions: type[SchemaExtension]) -> strawberry.Schema:
    return strawberry.Schema(Query, extensions=[OperationLimits.factory(POLICY), *extensions])


@pytest.fixture
def schema() -> strawberry.Schema:
    return make_schema()


async def test_an_over_limit_operation_never_reaches_a_resolver(schema: strawberry.Schema) -> None:
    context = Context()
    result = await schema.execute(
        "{ a: warehouses { id } b: warehouses { id } c: warehouses { id } }",
        context_value=context,
    )
    assert result.data is None
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "TOO_MANY_ALIASES", "limit": 2, "measured": 3}
    assert context.calls == []


async def test_depth_ten_thousand_is_refused_without_a_recursion_error(
    schema: strawberry.Schema,
) -> None:
    query = "{" + "warehouses {" * 10_000 + "id" + "}" * 10_001
    result = await schema.execute(query, context_value=Context())
    assert result.errors is not None
    assert result.errors[0].extensions is not None
    assert result.errors[0].extensions["code"] == "QUERY_TOO_DEEP"


async def test_the_token_limit_stops_parsing(schema: strawberry.Schema) -> None:
    query = "{" + "warehouses { id } " * 2_000 + "}"
    result = await schema.execute(query, context_value=Context())
    assert result.errors is not None
    assert result.errors[0].extensions == {
        "code": "QUERY_TOO_LARGE",
        "limit": 5000,
        "measured": 8002,
    }


async def test_cost_uses_the_requests_variables(schema: strawberry.Schema) -> None:
    query = "query($n: Int!) { warehouses(first: $n) { id } }"
    ok = await schema.execute(query, variable_values={"n": 3}, context_value=Context())
    assert ok.errors is None
    refused = await schema.execute(query, variable_values={"n": 500}, context_value=Context())
    assert refused.errors is not None
    assert refused.errors[0].extensions == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": 100,
        "measured": 501,
    }


async def test_a_role_with_higher_limits_may_run_the_operation(schema: strawberry.Schema) -> None:
    context = Context(principal=Principal(subject="root", roles=frozenset({"admin"})))
    result = await schema.execute(
        "{ a: warehouses { id } b: warehouses { id } c: warehouses { id } }",
        context_value=context,
    )
    assert result.errors is None
    assert context.calls == ["warehouses"] * 3


async def test_syntax_errors_are_still_reported_as_syntax_errors(
    schema: strawberry.Schema,
) -> None:
    result = await schema.execute("{ warehouses { id }", context_value=Context())
    assert result.errors is not None
    assert result.errors[0].message.startswith("Syntax Error")


async def test_ordinary_validation_still_runs_within_limits(schema: strawberry.Schema) -> None:
    result = await schema.execute("{ nothing }", context_value=Context())
    assert result.errors is not None
    assert "Cannot query field 'nothing'" in result.errors[0].message


async def test_cyclic_introspection_is_refused(schema: strawberry.Schema) -> None:
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    result = await schema.execute(query, context_value=Context())
    assert result.errors is not None
    assert "introspection" in result.errors[0].message.lower()


async def test_graphiqls_introspection_query_runs(schema: strawberry.Schema) -> None:
    result = await schema.execute(get_introspection_query(), context_value=Context())
    assert result.errors is None


async def test_the_same_document_is_parsed_once_under_the_same_limits(
    schema: strawberry.Schema,
) -> None:
    documents = []

    class Spy(SchemaExtension):
        def on_execute(self):  # type: ignore[no-untyped-def]
            documents.append(self.execution_context.graphql_document)
            yield

    cached = make_schema(Spy)
    for _ in range(2):
        result = await cached.execute("{ warehouses(first: 2) { id } }", context_value=Context())
        assert result.errors is None
    assert documents[0] is documents[1]


async def test_cached_validation_reports_the_same_errors_every_time(
    schema: strawberry.Schema,
) -> None:
    messages = []
    for _ in range(3):
        result = await schema.execute("{ nothing }", context_value=Context())
        assert result.errors is not None
        messages.append([e.message for e in result.errors])
    assert messages[0] == messages[1] == messages[2]
    assert len(messages[0]) == 1


async def test_limits_are_measured_per_request_though_the_document_is_cached(
    schema: strawberry.Schema,
) -> None:
    query = "query Q($n: Int!) { warehouses(first: $n) { id } }"
    small = await schema.execute(query, variable_values={"n": 1}, context_value=Context())
    assert small.errors is None
    huge = await schema.execute(query, variable_values={"n": 10_000}, context_value=Context())
    assert huge.errors is not None
    assert huge.errors[0].extensions is not None
    assert huge.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"


async def test_a_repeated_document_is_measured_once_per_variables_shape(
    schema: strawberry.Schema, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cost walk is kept by document and variables' Int values; errors are new each time."""
    measured: list[object] = []
    measure = limits.measure_operations

    def counted(*args: Any, **kwargs: Any) -> Any:
        measured.append(kwargs.get("variables"))
        return measure(*args, **kwargs)

    monkeypatch.setattr(limits, "measure_operations", counted)
    query = "query Shape($n: Int!) { warehouses(first: $n) { id } }"
    errors = []
    for _ in range(2):
        result = await schema.execute(query, variable_values={"n": 500}, context_value=Context())
        assert result.errors is not None
        errors.append(result.errors[0])
    assert measured == [{"n": 500}]
    assert errors[0] is not errors[1]
    assert (
        errors[0].extensions
        == errors[1].extensions
        == {
            "code": "QUERY_TOO_COMPLEX",
            "limit": 100,
            "measured": 501,
        }
    )
    ok = await schema.execute(query, variable_values={"n": 2}, context_value=Context())
    assert ok.errors is None
    assert measured == [{"n": 500}, {"n": 2}]


async def test_a_given_null_is_not_measured_as_the_absent_variables_default(
    schema: strawberry.Schema,
) -> None:
    """An absent variable takes the document's default; a given null means the default list
    size: the two requests must not share a measurement."""
    query = "query Defaults($n: Int = 500) { warehouses(first: $n) { id } }"
    absent = await schema.execute(query, context_value=Context())
    assert absent.errors is not None
    assert absent.errors[0].extensions is not None
    assert absent.errors[0].extensions["measured"] == 501
    given = await schema.execute(query, variable_values={"n": None}, context_value=Context())
    codes = [(e.extensions or {}).get("code") for e in given.errors or ()]
    assert "QUERY_TOO_COMPLEX" not in codes  # refused later, by the field's `Int!`, not here
