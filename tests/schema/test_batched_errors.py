"""The batched executor with one exception failing many objects: reported once per position,
never re-raised (re-raising one exception object appends to its traceback every time, and a
logged error then prints a traceback as long as the batch)."""

from __future__ import annotations

import traceback

import strawberry

from schema.execution import BatchedExecutionContext

SHARED = RuntimeError("the backend is down")


@strawberry.type
class Item:
    number: int

    @strawberry.field
    def stock(self) -> int | None:
        return SHARED  # type: ignore[return-value]  # as a failed batch load hands it out

    @strawberry.field
    def parts(self) -> list[int | None]:
        return [1, SHARED, 3]  # type: ignore[list-item]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [Item(number=n) for n in range(200)]


SCHEMA = strawberry.Schema(Query, execution_context_class=BatchedExecutionContext)


async def test_one_exception_failing_every_object_is_located_at_each_and_never_re_raised() -> None:
    result = await SCHEMA.execute("{ items { number stock parts } }")
    assert result.data is not None
    assert result.data["items"][7] == {"number": 7, "stock": None, "parts": [1, None, 3]}
    assert result.errors is not None
    paths = {tuple(error.path or ()) for error in result.errors}
    assert ("items", 199, "stock") in paths
    assert ("items", 199, "parts", 1) in paths
    assert len(result.errors) == 400
    assert all(error.original_error is SHARED for error in result.errors)
    frames = traceback.extract_tb(SHARED.__traceback__) if SHARED.__traceback__ else []
    assert len(frames) < 5
