"""A slice of graphql-core's own execution tests (tests/execution/test_nonnull.py,
test_lists.py, test_abstract.py), run under the batched executor and under graphql-core.

Crossdock's graph has no interface or union, so the path where the batched executor hands
abstract types back to graphql-core never runs in the other differential tests; this schema
has both, lists of them (nullable and not), sync and async resolvers, and fields that fail
or return null where the type says non-null. Every document must answer exactly as
graphql-core answers (data with key order, errors by message and path), and the cases
graphql-core's tests state are checked against their stated answer too.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
import strawberry

from schema.build import CrossdockSchema
from schema.execution import BatchedExecutionContext


@strawberry.interface
class Pet:
    name: str | None


@strawberry.type
class Dog(Pet):
    woofs: bool | None


@strawberry.type
class Cat(Pet):
    meows: bool | None


@strawberry.type
class Robot:
    model: str


Animal = Annotated[Dog | Cat, strawberry.union("Animal")]


def fail(message: str) -> Any:
    raise ValueError(message)


@strawberry.type
class Node:
    depth: int

    @strawberry.field
    def sync(self) -> str | None:
        return f"sync{self.depth}"

    @strawberry.field
    def sync_non_null(self) -> str:
        return f"sync{self.depth}"

    @strawberry.field
    def throws(self) -> str | None:
        return fail(f"throws at {self.depth}")

    @strawberry.field
    def throws_non_null(self) -> str:
        return fail(f"throwsNonNull at {self.depth}")

    @strawberry.field
    def null_non_null(self) -> str:
        return None  # type: ignore[return-value]  # the executor must refuse it

    @strawberry.field
    async def async_throws_non_null(self) -> str:
        return fail(f"asyncThrowsNonNull at {self.depth}")

    @strawberry.field
    async def async_sync(self) -> str | None:
        return f"async{self.depth}"

    @strawberry.field
    def nest(self) -> Node | None:
        return Node(depth=self.depth + 1)

    @strawberry.field
    def nest_non_null(self) -> Node:
        return Node(depth=self.depth + 1)

    @strawberry.field
    async def async_nest_non_null(self) -> Node:
        return Node(depth=self.depth + 1)

    @strawberry.field
    def list_of_non_null(self) -> list[str]:
        return ["a", None, "c"]  # type: ignore[list-item]

    @strawberry.field
    def nullable_list_of_nullable(self) -> list[str | None] | None:
        return ["a", None, "c"]

    @strawberry.field
    def nested_lists(self) -> list[list[int | None] | None]:
        return [[1, None], None, [3]]

    @strawberry.field
    async def async_items(self) -> list[Node | None]:
        return [Node(depth=self.depth + 1), None, Node(depth=self.depth + 2)]


@strawberry.type
class Query:
    @strawberry.field
    def node(self) -> Node | None:
        return Node(depth=0)

    @strawberry.field
    def pets(self) -> list[Pet | None]:
        return [Dog(name="Odie", woofs=True), None, Cat(name="Garfield", meows=False)]

    @strawberry.field
    async def async_pets(self) -> list[Pet]:
        return [Cat(name="Tom", meows=True), Dog(name="Spike", woofs=True)]

    @strawberry.field
    def animals(self) -> list[Animal]:
        return [Cat(name="Felix", meows=True), Dog(name="Rex", woofs=False)]

    @strawberry.field
    def animals_or_null(self) -> list[Animal | None] | None:
        return [None, Dog(name="Lassie", woofs=True)]

    @strawberry.field
    def wrong_pet(self) -> Pet | None:
        return Robot(model="R2")  # type: ignore[return-value]  # not a Pet: a runtime error

    @strawberry.field
    def wrong_pets(self) -> list[Pet]:
        return [Dog(name="Odie", woofs=True), Robot(model="R2")]  # type: ignore[list-item]


PLAIN = strawberry.Schema(Query)
BATCHED = strawberry.Schema(Query, execution_context_class=BatchedExecutionContext)
# Built as Crossdock builds its schema: no per-field hooks, so the batched executor reads plain
# attributes, calls resolvers directly and completes lists itself (a bare strawberry.Schema
# hooks every field, and the batched executor then calls each through graphql-core's resolver).
UNHOOKED = CrossdockSchema(Query, execution_context_class=BatchedExecutionContext)

# (document, the answer graphql-core's tests state, or None where only equality is checked)
CASES: list[tuple[str, Any]] = [
    (
        "{ node { sync syncNonNull asyncSync } }",
        {"node": {"sync": "sync0", "syncNonNull": "sync0", "asyncSync": "async0"}},
    ),
    ("{ node { sync throws } }", {"node": {"sync": "sync0", "throws": None}}),
    ("{ node { sync throwsNonNull } }", {"node": None}),
    ("{ node { nest { throwsNonNull } sync } }", {"node": {"nest": None, "sync": "sync0"}}),
    ("{ node { nestNonNull { nestNonNull { throwsNonNull } } sync } }", {"node": None}),
    (
        "{ node { nest { nestNonNull { asyncNestNonNull { asyncThrowsNonNull } } } } }",
        {"node": {"nest": None}},
    ),
    ("{ node { asyncNestNonNull { asyncThrowsNonNull } sync } }", {"node": None}),
    ("{ node { nullNonNull } }", {"node": None}),
    ("{ node { nest { nullNonNull sync } } }", {"node": {"nest": None}}),
    ("{ node { listOfNonNull } }", {"node": None}),
    (
        "{ node { nullableListOfNullable nestedLists } }",
        {
            "node": {
                "nullableListOfNullable": ["a", None, "c"],
                "nestedLists": [[1, None], None, [3]],
            }
        },
    ),
    ("{ node { asyncItems { depth sync throwsNonNull } } }", None),
    ("{ node { asyncItems { depth nest { depth } } } }", None),
    (
        "{ pets { __typename name ... on Dog { woofs } ... on Cat { meows } } }",
        {
            "pets": [
                {"__typename": "Dog", "name": "Odie", "woofs": True},
                None,
                {"__typename": "Cat", "name": "Garfield", "meows": False},
            ]
        },
    ),
    (
        "{ asyncPets { name ... on Cat { meows } } }",
        {"asyncPets": [{"name": "Tom", "meows": True}, {"name": "Spike"}]},
    ),
    ("fragment P on Pet { name } { pets { ...P } asyncPets { ...P __typename } }", None),
    (
        "{ animals { __typename ... on Dog { name woofs } ... on Cat { name } } }",
        {
            "animals": [
                {"__typename": "Cat", "name": "Felix"},
                {"__typename": "Dog", "name": "Rex", "woofs": False},
            ]
        },
    ),
    ("{ animalsOrNull { ... on Dog { name } } animals { ... on Pet { name } } }", None),
    ("{ wrongPet { name } node { sync } }", {"wrongPet": None, "node": {"sync": "sync0"}}),
    ("{ wrongPets { name } }", None),
    (
        "{ a: node { sync } b: node { nest { sync } } pets { ... on Dog { a: name b: name } } }",
        None,
    ),
]


def answer(result: Any) -> tuple[str, list[tuple[str, tuple[Any, ...]]]]:
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or ())
    return json.dumps(result.data), errors


@pytest.mark.parametrize("schema", [BATCHED, UNHOOKED], ids=["hooked", "unhooked"])
@pytest.mark.parametrize(("document", "stated"), CASES, ids=[c[0][:60] for c in CASES])
async def test_the_batched_executor_answers_as_graphql_core(
    document: str, stated: Any, schema: strawberry.Schema
) -> None:
    plain = await PLAIN.execute(document)
    batched = await schema.execute(document)
    assert answer(batched) == answer(plain)
    if stated is not None:
        assert batched.data == stated
    assert (batched.errors is None) == (plain.errors is None)


async def test_the_slice_reaches_abstract_types_and_non_null_propagation() -> None:
    """The cases are not vacuous: errors happen, and abstract types resolve both ways."""
    result = await BATCHED.execute("{ node { nestNonNull { throwsNonNull } } wrongPet { name } }")
    assert result.data == {"node": None, "wrongPet": None}
    assert {e.path[0] for e in result.errors or ()} == {"node", "wrongPet"}
    non_null_list = await BATCHED.execute("{ wrongPets { name } }")
    assert non_null_list.data is None  # [Pet!]! at the root: the error reaches the root
