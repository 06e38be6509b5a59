"""A test graph with interfaces and unions, for holding the batched executor to graphql-core.

Crossdock's graph has no abstract type, so the executor's path that hands a field of abstract
type (and everything under it) to graphql-core never runs on it. This graph has two
interfaces (`Named`, and `Mammal`, which implements it), a union (`Pet = Dog | Cat`), objects
that implement them (`Dog`, `Cat`, `Person`: strawberry gives these `is_type_of`) and objects
that do not (`Shelter`, `Room`, `Query`: completed by the batched executor), with lists of
abstract types nullable and not, items nullable and not, as plain attributes, sync, async and
batch resolvers. It fails in set places: a dog without a tag (`Dog.tag: String!` is null),
a cat whose `lives` raises, a person without a favourite (`Person.favorite: Pet!` is null), a
room whose `stray: Pet` is a person (not a possible type), so errors propagate from inside
delegated fields into batched parents and from batched parents' non-null positions upwards.

The data is immutable: each execution reads the same animals, whatever ran before.

    ZOO_PLAIN.execute(document)     # graphql-core's executor
    ZOO_BATCHED.execute(document)   # the batched executor
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import strawberry

from schema.build import CrossdockSchema
from schema.execution import BatchedExecutionContext
from schema.execution.batch_resolvers import batched


def _find(key: int | None) -> Any:
    return None if key is None else KEYED.get(key)


@strawberry.interface(description="Anything with a name.")
class Named:
    key: strawberry.Private[int]
    name: str | None


@strawberry.interface(description="A named thing with a family.")
class Mammal(Named):
    mother_key: strawberry.Private[int | None]

    @strawberry.field
    def mother(self) -> Mammal | None:
        return _find(self.mother_key)

    @strawberry.field
    def elder(self) -> Mammal:
        return _find(self.mother_key)  # type: ignore[no-any-return]  # null: a field error

    @strawberry.field
    async def progeny(self) -> list[Mammal]:
        await asyncio.sleep(0)
        return [m for m in MAMMALS if m.mother_key == self.key]


@strawberry.type
class Dog(Mammal):
    barks: bool | None
    tag_text: strawberry.Private[str | None]

    @strawberry.field
    def tag(self) -> str:
        return self.tag_text  # type: ignore[return-value]  # a stray's null: a field error

    @strawberry.field
    def owner(self) -> Person | None:
        return next((p for p in PEOPLE if self.key in p.pet_keys), None)


@strawberry.type
class Cat(Mammal):
    meows: bool | None

    @strawberry.field
    async def lives(self) -> int:
        if self.name == "Nine":
            raise ValueError("Nine has used up its lives")
        return 9


Pet = Annotated[Dog | Cat, strawberry.union("Pet")]


@strawberry.type
class Person(Mammal):
    pet_keys: strawberry.Private[tuple[int, ...]]
    friend_keys: strawberry.Private[tuple[int, ...]]

    @strawberry.field
    def pets(self) -> list[Pet | None] | None:
        return [_find(key) for key in self.pet_keys]

    @strawberry.field
    async def friends(self) -> list[Named] | None:
        return [_find(key) for key in self.friend_keys]

    @strawberry.field
    def favorite(self) -> Pet:
        return _find(self.pet_keys[0] if self.pet_keys else None)  # type: ignore[no-any-return]


def rooms_strays(rooms: list[Room], info: Any) -> list[Any]:
    return [_find(room.stray_key) for room in rooms]


@strawberry.type(description="A room of a shelter: not abstract, completed by batches.")
class Room:
    number: int
    occupant: Pet | None  # a plain attribute of abstract type
    stray_key: strawberry.Private[int | None]

    @strawberry.field
    def occupants(self) -> list[Named]:
        return [n for n in (self.occupant, _find(self.stray_key)) if n is not None]

    stray = batched(rooms_strays, "The room's stray; one is a person: an error.", "Pet | None")


def shelters_heads(shelters: list[Shelter], info: Any) -> list[Any]:
    return [_head(shelter) for shelter in shelters]


async def _head(shelter: Shelter) -> Any:
    await asyncio.sleep(0)
    return _find(shelter.head_key)


@strawberry.type(description="A shelter: not abstract, completed by batches.")
class Shelter:
    name: str
    animals: list[Pet]  # a plain attribute: a list of a union, nothing null
    keeper: Named | None  # a plain attribute of interface type
    rooms: list[Room]
    head_key: strawberry.Private[int | None]

    @strawberry.field
    def residents(self) -> list[Mammal | None] | None:
        return [*self.animals, None]

    @strawberry.field
    async def everyone(self) -> list[Named]:
        await asyncio.sleep(0)
        return [*self.animals, *([self.keeper] if self.keeper else [])]

    head = batched(shelters_heads, "Its head mammal; null where it has none.", "Mammal")


ODIE_MOM = Dog(key=1, name="Odie's Mom", mother_key=None, barks=True, tag_text="M-1")
ODIE = Dog(key=2, name="Odie", mother_key=1, barks=True, tag_text="O-2")
STRAY = Dog(key=3, name="Stray", mother_key=1, barks=None, tag_text=None)
GARFIELD_MOM = Cat(key=4, name="Garfield's Mom", mother_key=None, meows=False)
GARFIELD = Cat(key=5, name="Garfield", mother_key=4, meows=False)
NINE = Cat(key=6, name="Nine", mother_key=4, meows=True)
LIZ = Person(key=7, name="Liz", mother_key=None, pet_keys=(), friend_keys=())
JOHN = Person(key=8, name="John", mother_key=None, pet_keys=(5, 2), friend_keys=(7, 2))
ANN = Person(key=9, name="Ann", mother_key=8, pet_keys=(3, 6), friend_keys=(8, 6, 3))

MAMMALS: list[Mammal] = [ODIE_MOM, ODIE, STRAY, GARFIELD_MOM, GARFIELD, NINE, LIZ, JOHN, ANN]
PEOPLE = [LIZ, JOHN, ANN]
KEYED: dict[int, Mammal] = {m.key: m for m in MAMMALS}

SHELTERS = [
    Shelter(
        name="North",
        animals=[ODIE, GARFIELD],
        keeper=JOHN,
        rooms=[
            Room(number=1, occupant=ODIE, stray_key=None),
            Room(number=2, occupant=None, stray_key=6),
        ],
        head_key=1,
    ),
    Shelter(
        name="South",
        animals=[STRAY, NINE, ODIE_MOM],
        keeper=None,
        rooms=[
            Room(number=3, occupant=NINE, stray_key=7),
            Room(number=4, occupant=STRAY, stray_key=3),
        ],
        head_key=None,
    ),
    Shelter(name="Empty", animals=[], keeper=LIZ, rooms=[], head_key=9),
]


@strawberry.type
class Query:
    @strawberry.field
    def shelters(self) -> list[Shelter]:
        return SHELTERS

    @strawberry.field
    def shelter(self, name: str) -> Shelter | None:
        return next((s for s in SHELTERS if s.name == name), None)

    @strawberry.field
    def named(self) -> list[Named | None]:
        return [JOHN, None, STRAY, GARFIELD]

    @strawberry.field
    async def mammals(self) -> list[Mammal]:
        return MAMMALS

    @strawberry.field
    def pets(self) -> list[Pet] | None:
        return [m for m in MAMMALS if not isinstance(m, Person)]

    @strawberry.field
    def pet(self, key: int) -> Pet | None:
        return _find(key)

    @strawberry.field
    def people(self) -> list[Person]:
        return PEOPLE


def zoo_schema(*, batched: bool) -> CrossdockSchema:
    """The zoo as Crossdock builds its schemas: per-field hooks only where needed (none here),
    so the batched executor reads attributes, calls resolvers directly and batch resolvers
    once, as it does on the real graph (a bare strawberry.Schema would hook every field)."""
    context = BatchedExecutionContext if batched else None
    return CrossdockSchema(Query, types=[Dog, Cat, Person], execution_context_class=context)


ZOO_PLAIN = zoo_schema(batched=False)
ZOO_BATCHED = zoo_schema(batched=True)
