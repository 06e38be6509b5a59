"""Interfaces and unions: the batched executor answers as graphql-core does on the zoo graph.

Crossdock's graph has no abstract type; tests/schema/zoo.py has interfaces, a union, lists of
them nullable and not, and fields that fail inside and around them. First, random documents
(tests/schema/querygen.py, reproducible by seed) run through graphql-core and through the
batched executor must answer alike (tests/schema/differential.py's comparison); then the
cases of graphql-core's own tests/execution/test_union_interface.py, restated over the zoo,
with the answers they state.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from graphql import (
    FieldNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    is_abstract_type,
    parse,
    validate,
    visit,
)

from tests.schema.differential import Answer, diverges, graphql_error_key, report
from tests.schema.querygen import ArgumentValues, Document, generate
from tests.schema.zoo import ZOO_BATCHED, ZOO_PLAIN, CrossdockSchema

VALUES = ArgumentValues(
    pools={"Query.shelter.name": ("North", "South", "Empty", "Nowhere"), "key": (2, 3, 6, 8, 99)}
)


async def run(schema: CrossdockSchema, doc: Document) -> Answer:
    result = await schema.execute(doc.text, variable_values=doc.variables)
    errors = sorted(graphql_error_key(error) for error in result.errors or ())
    return Answer(json.dumps(result.data), errors, Counter())


def document(seed: int) -> Document:
    doc = generate(ZOO_PLAIN._schema, seed=seed, values=VALUES)
    invalid = validate(ZOO_PLAIN._schema, parse(doc.text))
    assert not invalid, f"{doc}\n{invalid}"  # a vacuous comparison otherwise
    return doc


BLOCKS = [range(start, start + 100) for start in range(0, 400, 100)]  # 400 documents


@pytest.mark.parametrize("seeds", BLOCKS, ids=lambda r: f"seeds{r.start}-{r.stop - 1}")
async def test_random_documents_over_interfaces_and_unions_answer_alike(seeds: range) -> None:
    found: list[str] = []
    for seed in seeds:
        doc = document(seed)
        found += diverges(doc, await run(ZOO_PLAIN, doc), await run(ZOO_BATCHED, doc))
    assert not found, report(found)


async def test_the_random_documents_reach_abstract_types_and_their_errors() -> None:
    """Not vacuous: most documents select an interface or a union, and many fail."""
    abstract = failing = 0
    for seed in range(100):
        doc = document(seed)
        abstract += abstract_fields(doc.text) > 0
        failing += bool((await run(ZOO_BATCHED, doc)).errors)
    assert abstract > 80
    assert failing > 20


def abstract_fields(text: str) -> int:
    """How many fields of `text` have an interface or a union as their (named) type."""
    graph = ZOO_PLAIN._schema
    types = TypeInfo(graph)
    found: list[str] = []

    class Abstract(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            output = types.get_type()
            if output is not None and is_abstract_type(get_named_type(output)):
                found.append(node.name.value)

    visit(parse(text), TypeInfoVisitor(types, Abstract()))
    return len(found)


# graphql-core's tests/execution/test_union_interface.py, over the zoo: (document, answer)
UNION_INTERFACE: list[tuple[str, dict[str, Any]]] = [
    (  # union types with inline fragments
        '{ shelter(name: "North") { __typename name animals { __typename'
        " ... on Dog { name barks } ... on Cat { name meows } } } }",
        {
            "shelter": {
                "__typename": "Shelter",
                "name": "North",
                "animals": [
                    {"__typename": "Dog", "name": "Odie", "barks": True},
                    {"__typename": "Cat", "name": "Garfield", "meows": False},
                ],
            }
        },
    ),
    (  # interface types with inline fragments, an abstract condition among them
        "{ people { name friends { __typename name ... on Dog { barks } ... on Cat { meows }"
        " ... on Mammal { mother { __typename ... on Dog { name barks } } } } } }",
        {
            "people": [
                {"name": "Liz", "friends": []},
                {
                    "name": "John",
                    "friends": [
                        {"__typename": "Person", "name": "Liz", "mother": None},
                        {
                            "__typename": "Dog",
                            "name": "Odie",
                            "barks": True,
                            "mother": {"__typename": "Dog", "name": "Odie's Mom", "barks": True},
                        },
                    ],
                },
                {
                    "name": "Ann",
                    "friends": [
                        {"__typename": "Person", "name": "John", "mother": None},
                        {
                            "__typename": "Cat",
                            "name": "Nine",
                            "meows": True,
                            "mother": {"__typename": "Cat"},
                        },
                        {
                            "__typename": "Dog",
                            "name": "Stray",
                            "barks": None,
                            "mother": {"__typename": "Dog", "name": "Odie's Mom", "barks": True},
                        },
                    ],
                },
            ]
        },
    ),
    (  # interface types with named fragments
        '{ shelter(name: "North") { keeper { __typename name ...DogBarks ...CatMeows } } }'
        " fragment DogBarks on Dog { barks } fragment CatMeows on Cat { meows }",
        {"shelter": {"keeper": {"__typename": "Person", "name": "John"}}},
    ),
    (  # fragment conditions that are abstract types, nested
        '{ shelter(name: "North") { animals { ...PetFields ... on Mammal { mother'
        " { ...Progeny } } } keeper { ...Friend } } }"
        " fragment PetFields on Pet { __typename ... on Dog { name barks } ... on Cat { name } }"
        " fragment Friend on Named { __typename name ... on Dog { barks } }"
        " fragment Progeny on Mammal { progeny { __typename name } }",
        {
            "shelter": {
                "animals": [
                    {
                        "__typename": "Dog",
                        "name": "Odie",
                        "barks": True,
                        "mother": {
                            "progeny": [
                                {"__typename": "Dog", "name": "Odie"},
                                {"__typename": "Dog", "name": "Stray"},
                            ]
                        },
                    },
                    {
                        "__typename": "Cat",
                        "name": "Garfield",
                        "mother": {
                            "progeny": [
                                {"__typename": "Cat", "name": "Garfield"},
                                {"__typename": "Cat", "name": "Nine"},
                            ]
                        },
                    },
                ],
                "keeper": {"__typename": "Person", "name": "John"},
            }
        },
    ),
]


@pytest.mark.parametrize(("text", "stated"), UNION_INTERFACE, ids=range(len(UNION_INTERFACE)))
async def test_graphql_cores_union_and_interface_cases(text: str, stated: Any) -> None:
    doc = Document(0, text, {})
    plain, batched = await run(ZOO_PLAIN, doc), await run(ZOO_BATCHED, doc)
    assert diverges(doc, plain, batched) == []
    assert json.loads(batched.data) == stated
    assert batched.errors == []


async def test_a_failure_inside_an_abstract_type_nulls_the_batched_parent_it_reaches() -> None:
    """`Dog.tag: String!` is null for the stray: `animals: [Pet!]!` cannot hold it, so the
    shelter (an item of `[Shelter!]!`) cannot either, and the whole `shelters` is null."""
    doc = Document(0, "{ shelters { name animals { ... on Dog { tag } } } people { name } }", {})
    plain, batched = await run(ZOO_PLAIN, doc), await run(ZOO_BATCHED, doc)
    assert diverges(doc, plain, batched) == []
    assert json.loads(batched.data) is None  # Query.shelters is non-null too
    assert [(e[0], json.loads(e[1])) for e in batched.errors] == [
        ("Cannot return null for non-nullable field Dog.tag.", ["shelters", 1, "animals", 0, "tag"])
    ]


async def test_an_object_that_is_not_a_possible_type_is_an_error_where_it_is_returned() -> None:
    doc = Document(0, '{ shelter(name: "South") { rooms { number stray { __typename } } } }', {})
    plain, batched = await run(ZOO_PLAIN, doc), await run(ZOO_BATCHED, doc)
    assert diverges(doc, plain, batched) == []
    rooms = json.loads(batched.data)["shelter"]["rooms"]
    assert rooms == [{"number": 3, "stray": None}, {"number": 4, "stray": {"__typename": "Dog"}}]
    assert [json.loads(e[1]) for e in batched.errors] == [["shelter", "rooms", 0, "stray"]]
