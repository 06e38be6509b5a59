"""graphql-core's non-null tests (tests/execution/test_nonnull.py), run under the batched executor.

One object type whose every field either returns null or raises (`throws`), in four kinds:
sync and async, nullable and non-null, leaves and nested objects. Each document of
graphql-core's test runs through graphql-core, through the batched executor with every field
hooked (a bare strawberry.Schema) and without hooks (as Crossdock builds its schema); the three
answers must be equal (data, errors with message, path and location), and equal to what
graphql-core's test states. Like graphql-core's test, each document also runs with its sync
fields swapped for async ones, and must answer the same with the names swapped.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import strawberry

from schema.build import CrossdockSchema
from schema.execution import BatchedExecutionContext


def outcome(data: Data, name: str) -> Any:
    if data.throws:
        raise RuntimeError(name)
    return None


@strawberry.type
class Data:
    throws: strawberry.Private[bool]

    @strawberry.field
    def sync(self) -> str | None:
        return outcome(self, "sync")  # type: ignore[no-any-return]

    @strawberry.field
    def sync_non_null(self) -> str:
        return outcome(self, "syncNonNull")  # type: ignore[no-any-return]

    @strawberry.field
    async def promise(self) -> str | None:
        return outcome(self, "promise")  # type: ignore[no-any-return]

    @strawberry.field
    async def promise_non_null(self) -> str:
        return outcome(self, "promiseNonNull")  # type: ignore[no-any-return]

    @strawberry.field
    def sync_nest(self) -> Data | None:
        return Data(throws=self.throws)

    @strawberry.field
    def sync_non_null_nest(self) -> Data:
        return Data(throws=self.throws)

    @strawberry.field
    async def promise_nest(self) -> Data | None:
        return Data(throws=self.throws)

    @strawberry.field
    async def promise_non_null_nest(self) -> Data:
        return Data(throws=self.throws)


PLAIN = strawberry.Schema(Data)
HOOKED = strawberry.Schema(Data, execution_context_class=BatchedExecutionContext)
UNHOOKED = CrossdockSchema(Data, execution_context_class=BatchedExecutionContext)


def chain(leaf: str) -> str:
    return (
        "syncNonNullNest { promiseNonNullNest { syncNonNullNest { promiseNonNullNest"
        f" {{ {leaf} }} }} }} }}"
    )


CHAIN_PATH = ["syncNonNullNest", "promiseNonNullNest", "syncNonNullNest", "promiseNonNullNest"]
TREE = "sync promise syncNest { sync promise } promiseNest { sync promise }"


def null_message(field: str) -> str:
    return f"Cannot return null for non-nullable field Data.{field}."


def failed(field: str, throws: bool) -> str:
    """The error a non-null field gives: its exception, or the null it returned."""
    return field if throws else null_message(field)


def tree_errors(throws: bool) -> list[tuple[str, list[Any]]]:
    if not throws:
        return []
    return sorted(
        (leaf, [top, *middle, leaf])
        for top in ("syncNest", "promiseNest")
        for middle in ([], ["syncNest"], ["promiseNest"])
        for leaf in ("sync", "promise")
    )


def tree_data() -> dict[str, Any]:
    leaves = {"sync": None, "promise": None}
    nest = {**leaves, "syncNest": dict(leaves), "promiseNest": dict(leaves)}
    return {"syncNest": nest, "promiseNest": dict(nest)}


# (name, document, (data, errors) for throws: bool); graphql-core also runs the first three
# with async fields for sync ones (the others select both kinds already)
CASES: list[tuple[str, str, Any]] = [
    (
        "a nullable field",
        "{ sync }",
        lambda t: ({"sync": None}, [("sync", ["sync"])] if t else []),
    ),
    (
        "an immediate object that contains a non-null field",
        "{ syncNest { syncNonNull } }",
        lambda t: (
            {"syncNest": None},
            [(failed("syncNonNull", t), ["syncNest", "syncNonNull"])],
        ),
    ),
    (
        "a promised object that contains a non-null field",
        "{ promiseNest { syncNonNull } }",
        lambda t: (
            {"promiseNest": None},
            [(failed("syncNonNull", t), ["promiseNest", "syncNonNull"])],
        ),
    ),
    (
        "a complex tree of nullable fields, each",
        f"{{ syncNest {{ {TREE} }} promiseNest {{ {TREE} }} }}",
        lambda t: (tree_data(), tree_errors(t)),
    ),
    (
        "the first nullable after a long chain of non-null fields",
        f"{{ syncNest {{ {chain('syncNonNull')} }} promiseNest {{ {chain('syncNonNull')} }}"
        f" anotherNest: syncNest {{ {chain('promiseNonNull')} }}"
        f" anotherPromiseNest: promiseNest {{ {chain('promiseNonNull')} }} }}",
        lambda t: (
            dict.fromkeys(("syncNest", "promiseNest", "anotherNest", "anotherPromiseNest")),
            sorted(
                (failed(leaf, t), [top, *CHAIN_PATH, leaf])
                for top, leaf in (
                    ("syncNest", "syncNonNull"),
                    ("promiseNest", "syncNonNull"),
                    ("anotherNest", "promiseNonNull"),
                    ("anotherPromiseNest", "promiseNonNull"),
                )
            ),
        ),
    ),
    (
        "the top level if a non-nullable field",
        "{ syncNonNull }",
        lambda t: (None, [(failed("syncNonNull", t), ["syncNonNull"])]),
    ),
    (
        "the top level if an async non-nullable field",
        "{ promiseNonNull }",
        lambda t: (None, [(failed("promiseNonNull", t), ["promiseNonNull"])]),
    ),
]


SWAPPED = {c[1] for c in CASES[:3]}  # graphql-core runs these with async fields as well


def as_async(text: str) -> str:
    """graphql-core's `patch`: every sync field swapped for its async twin."""
    return re.sub(r"\bsyncNonNull\b", "promiseNonNull", re.sub(r"\bsync\b", "promise", text))


async def answer(schema: strawberry.Schema, document: str, throws: bool) -> tuple[Any, Any]:
    result = await schema.execute(document, root_value=Data(throws=throws))
    errors = sorted(
        (e.message, e.path, [(at.line, at.column) for at in e.locations or ()])
        for e in result.errors or ()
    )
    return result.data, errors


def without_locations(found: tuple[Any, Any]) -> tuple[Any, Any]:
    return found[0], sorted((message, path) for message, path, _ in found[1])


@pytest.mark.parametrize("throws", [False, True], ids=["returns null", "throws"])
@pytest.mark.parametrize(("document", "stated"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_non_null_propagation_answers_as_graphql_core(
    document: str, stated: Any, throws: bool
) -> None:
    reference = await answer(PLAIN, document, throws)
    for schema in (HOOKED, UNHOOKED):
        assert await answer(schema, document, throws) == reference
    assert without_locations(reference) == stated(throws)
    if document not in SWAPPED:
        return
    swapped = await answer(PLAIN, as_async(document), throws)
    assert as_async(repr(without_locations(reference))) == repr(without_locations(swapped))
    for schema in (HOOKED, UNHOOKED):
        assert await answer(schema, as_async(document), throws) == swapped
