"""graphql-core's list tests (tests/execution/test_lists.py), run under the batched executor.

Each case is a value a resolver returns for a list field, in four nullabilities (`[Int]`,
`[Int]!`, `[Int!]`, `[Int!]!`), returned as it is, awaited, or with each element an
awaitable; plus the iterables graphql-core accepts as lists (tuples, generators, custom
iterables) and those it refuses (a mapping, a string); plus lists of objects whose elements
are awaitables. The batched executor must answer as graphql-core does, and as graphql-core's
tests state. The schemas are built as Crossdock builds its own (no per-field hooks), so the
batched executor takes its own paths (direct calls, batched completion of lists).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import strawberry

from schema.build import CrossdockSchema
from schema.execution import BatchedExecutionContext


async def later(value: Any) -> Any:
    return value


async def failing(message: str) -> Any:
    raise RuntimeError(message)


def awaitable(value: Any) -> Any:
    return failing(value.args[0]) if isinstance(value, Exception) else later(value)


class Root:
    """What the resolvers return: `value`, awaited (`async`) or element by element (`items`)."""

    def __init__(self, value: Any, mode: str) -> None:
        self.value = value
        self.mode = mode

    def get(self) -> Any:
        if isinstance(self.value, Exception):  # the resolver fails: raises, or its awaitable
            message = self.value.args[0]
            if self.mode == "async":
                return failing(message)
            raise RuntimeError(message)
        if self.mode == "async":
            return later(self.value)
        if self.mode == "items":
            return [
                failing(v.args[0]) if isinstance(v, Exception) else later(v) for v in self.value
            ]
        return self.value


@strawberry.type
class Item:
    index: int

    @strawberry.field
    async def text(self) -> str:
        if self.index == 2:
            raise RuntimeError("bad")
        return str(self.index)


@strawberry.type
class Query:
    @strawberry.field
    def nullable(self) -> list[int | None] | None:
        return Root.get(self)  # type: ignore[arg-type]  # strawberry passes the root as self

    @strawberry.field
    def list_non_null(self) -> list[int | None]:
        return Root.get(self)  # type: ignore[arg-type]

    @strawberry.field
    def items_non_null(self) -> list[int] | None:
        return Root.get(self)  # type: ignore[arg-type]

    @strawberry.field
    def both_non_null(self) -> list[int]:
        return Root.get(self)  # type: ignore[arg-type]

    @strawberry.field
    def strings(self) -> list[str | None] | None:
        return Root.get(self)  # type: ignore[arg-type]

    @strawberry.field
    def nested(self) -> list[list[int | None] | None] | None:
        return Root.get(self)  # type: ignore[arg-type]

    @strawberry.field
    def items(self) -> list[Item | None] | None:
        return Root.get(self)  # type: ignore[arg-type]


PLAIN = CrossdockSchema(Query)
BATCHED = CrossdockSchema(Query, execution_context_class=BatchedExecutionContext)

FIELDS = ("nullable", "listNonNull", "itemsNonNull", "bothNonNull")  # [Int] [Int]! [Int!] [Int!]!


def null_at(field: str, path: list[Any]) -> list[tuple[str, list[Any]]]:
    return [(f"Cannot return null for non-nullable field Query.{field}.", path)]


# (value, {field: (data, errors)}) as graphql-core's test_lists.py states them
NULLABILITY: list[tuple[str, Any, dict[str, tuple[Any, list[tuple[str, list[Any]]]]]]] = [
    ("values", [1, 2], {f: ({f: [1, 2]}, []) for f in FIELDS}),
    (
        "a null",
        [1, None, 2],
        {
            "nullable": ({"nullable": [1, None, 2]}, []),
            "listNonNull": ({"listNonNull": [1, None, 2]}, []),
            "itemsNonNull": ({"itemsNonNull": None}, null_at("itemsNonNull", ["itemsNonNull", 1])),
            "bothNonNull": (None, null_at("bothNonNull", ["bothNonNull", 1])),
        },
    ),
    (
        "null",
        None,
        {
            "nullable": ({"nullable": None}, []),
            "listNonNull": (None, null_at("listNonNull", ["listNonNull"])),
            "itemsNonNull": ({"itemsNonNull": None}, []),
            "bothNonNull": (None, null_at("bothNonNull", ["bothNonNull"])),
        },
    ),
    (
        "an error",
        [1, RuntimeError("bad"), 2],
        {
            "nullable": ({"nullable": [1, None, 2]}, [("bad", ["nullable", 1])]),
            "listNonNull": ({"listNonNull": [1, None, 2]}, [("bad", ["listNonNull", 1])]),
            "itemsNonNull": ({"itemsNonNull": None}, [("bad", ["itemsNonNull", 1])]),
            "bothNonNull": (None, [("bad", ["bothNonNull", 1])]),
        },
    ),
    (
        "raised",
        RuntimeError("bad"),
        {
            "nullable": ({"nullable": None}, [("bad", ["nullable"])]),
            "listNonNull": (None, [("bad", ["listNonNull"])]),
            "itemsNonNull": ({"itemsNonNull": None}, [("bad", ["itemsNonNull"])]),
            "bothNonNull": (None, [("bad", ["bothNonNull"])]),
        },
    ),
]

CASES = [
    pytest.param(value, mode, field, stated[field], id=f"{name}-{mode}-{field}")
    for name, value, stated in NULLABILITY
    for mode in ("sync", "async", "items")
    if mode != "items" or isinstance(value, list)
    for field in FIELDS
]


async def execute(schema: CrossdockSchema, document: str, root: Root) -> tuple[Any, Any]:
    result = await schema.execute(document, root_value=root)
    errors = sorted((e.message, e.path) for e in result.errors or ())
    return result.data, errors


@pytest.mark.parametrize(("value", "mode", "field", "stated"), CASES)
async def test_list_nullability_answers_as_graphql_core(
    value: Any, mode: str, field: str, stated: Any
) -> None:
    document = f"{{ {field} }}"
    plain = await execute(PLAIN, document, Root(value, mode))
    batched = await execute(BATCHED, document, Root(value, mode))
    assert batched == plain
    assert batched == stated


class Words:
    """A custom iterable, as graphql-core's test has one."""

    def __iter__(self) -> Iterator[str]:
        return iter(("hello", "world"))


def generated() -> Iterator[Any]:
    yield "one"
    yield 2
    yield True


# (what the resolver returns for `strings: [String]`, the answer graphql-core's test states)
ITERABLES: list[tuple[str, Any, Any, list[Any]]] = [
    ("a list", ["apple", "banana"], ["apple", "banana"], []),
    ("a tuple", ("apple", "banana", "coconut"), ["apple", "banana", "coconut"], []),
    ("a generator", generated, ["one", "2", "true"], []),
    ("a custom iterable", Words, ["hello", "world"], []),
    ("function arguments", lambda: (lambda *a: a)("one", "two"), ["one", "two"], []),
    ("a mapping", {1: "one", 2: "two"}, None, ["strings"]),
    ("a string", "Singular", None, ["strings"]),
]


@pytest.mark.parametrize(
    ("value", "data", "error_at"), [c[1:] for c in ITERABLES], ids=[c[0] for c in ITERABLES]
)
async def test_any_iterable_is_a_list_value_but_a_mapping_or_a_string(
    value: Any, data: Any, error_at: list[Any]
) -> None:
    def make() -> Any:
        return value() if callable(value) else value

    plain = await execute(PLAIN, "{ strings }", Root(make(), "sync"))
    batched = await execute(BATCHED, "{ strings }", Root(make(), "sync"))
    assert batched == plain
    assert batched[0] == {"strings": data}
    assert [path for _message, path in batched[1]] == ([error_at] if error_at else [])


def nested_awaitables() -> Any:
    return [[1, later(2)], later([3, None]), [failing("inner")], None]


def object_awaitables() -> Any:
    return [later(Item(index=1)), Item(index=2), failing("item"), None]


AWAITABLE_ELEMENTS = [
    (
        "{ nested }",
        nested_awaitables,
        {"nested": [[1, 2], [3, None], [None], None]},
        [("inner", ["nested", 2, 0])],
    ),
    (
        "{ items { index text } }",
        object_awaitables,
        {"items": [{"index": 1, "text": "1"}, None, None, None]},  # text: String! nulls item 1
        [("bad", ["items", 1, "text"]), ("item", ["items", 2])],
    ),
]


@pytest.mark.parametrize(
    ("document", "make", "data", "errors"), AWAITABLE_ELEMENTS, ids=("nested", "objects")
)
async def test_awaitable_elements_of_nested_lists_and_of_object_lists(
    document: str, make: Any, data: Any, errors: Any
) -> None:
    """Elements are awaited at every level; one that fails is an error at its place; objects
    that come from awaited elements complete their own fields, failing alone."""
    plain = await execute(PLAIN, document, Root(make(), "sync"))
    batched = await execute(BATCHED, document, Root(make(), "sync"))
    assert batched == plain
    assert batched == (data, errors)
