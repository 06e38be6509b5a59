"""Crossdock as an Apollo Federation v2 subgraph: its entities, their keys, and `_entities`.

A supergraph router reaches Crossdock's entities by key: it sends
`_entities(representations: [{__typename: "Order", id: "…"}, …])` with hundreds of
representations at once and selects fields on each. Every representation is resolved through
the same per-request loaders as the graph's own fields, all at once, so N orders become one
`Sales_Orders` call, N shipments one `Shipment` list call, N products one catalog search: the
loaders batch what arrives in the same turn.

The keys are declared on the types themselves (`@key` directives in `schema.orders` and
`schema.products`; `KEYS` reads them back); the plain schema does not print them (see
`schema.build.CrossdockSchema`).

Access rules apply as for root fields: the access decision walks `_entities`' inline
fragments by type, field rules and masks hold on every entity field, and row rules hold in
the loaders (a DHL partner resolving a UPS shipment by key gets null).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from strawberry.federation.schema_directives import Key

from resolvers.errors import InvalidInput
from schema.context import Info
from schema.orders import Customer, Order, Shipment, load_customer, load_order, load_shipment
from schema.products import Product, Warehouse, load_product

# Federation 2.9: the newest version both common composers accept (the MIT
# @theguild/federation-composition 0.27 refuses 2.10 and 2.11; @apollo/composition and
# @apollo/gateway 2.14 accept it), and it has every directive Crossdock uses (@key).
FEDERATION_VERSION = "2.9"

ENTITIES: tuple[type[Any], ...] = (Customer, Order, Product, Shipment, Warehouse)

Representation = Mapping[str, Any]
Resolve = Callable[[Info, Representation], Awaitable[Any]]


def _declared_keys(entity: type[Any]) -> tuple[str, ...]:
    directives = entity.__strawberry_definition__.directives or ()
    return tuple(str(d.fields) for d in directives if isinstance(d, Key))


# The entity types by name and their keys, as declared on the types (one `@key` each).
KEYS: Mapping[str, tuple[str, ...]] = {
    entity.__strawberry_definition__.name: _declared_keys(entity) for entity in ENTITIES
}


def _key(representation: Representation, type_name: str, name: str) -> str | None:
    value = representation.get(name)
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidInput(
            f"representation of {type_name}: {name} must be a string", argument="representations"
        )
    return str(value)


def _required(representation: Representation, type_name: str, name: str) -> str:
    value = _key(representation, type_name, name)
    if value is None:
        raise InvalidInput(
            f"representation of {type_name} needs its key field {name}",
            argument="representations",
        )
    return value


async def _customer(info: Info, representation: Representation) -> Customer | None:
    return await load_customer(info, _required(representation, "Customer", "id"))


async def _order(info: Info, representation: Representation) -> Order | None:
    order_id = _key(representation, "Order", "id")
    if order_id is not None:
        return await load_order(info, order_id)
    number = _key(representation, "Order", "number")
    if number is None:
        raise InvalidInput(
            "representation of Order needs one of its key fields id or number",
            argument="representations",
        )
    found = await info.context.crm.find_order(number=number)
    return None if found is None else Order.of(found)


async def _product(info: Info, representation: Representation) -> Product | None:
    return await load_product(info, _required(representation, "Product", "sku"))


async def _shipment(info: Info, representation: Representation) -> Shipment | None:
    return await load_shipment(info, _required(representation, "Shipment", "id"))


async def _warehouse(info: Info, representation: Representation) -> Warehouse | None:
    warehouse_id = _required(representation, "Warehouse", "id")
    found = (await info.context.loaders.warehouses()).get(warehouse_id)
    return None if found is None else Warehouse.of(found)


RESOLVERS: Mapping[str, Resolve] = {
    "Customer": _customer,
    "Order": _order,
    "Product": _product,
    "Shipment": _shipment,
    "Warehouse": _warehouse,
}


async def _one(info: Info, representation: Any) -> Any:
    if not isinstance(representation, Mapping):
        raise InvalidInput("a representation must be an object", argument="representations")
    type_name = representation.get("__typename")
    resolve = RESOLVERS.get(type_name) if isinstance(type_name, str) else None
    if resolve is None:
        known = ", ".join(sorted(RESOLVERS))
        raise InvalidInput(
            f"representation __typename {type_name!r} is not an entity of this subgraph "
            f"(one of {known})",
            argument="representations",
        )
    return await resolve(info, representation)


async def resolve_entities(info: Info, representations: list[Any]) -> list[Any]:
    """One entity (or None, or its error) per representation, in order, all loads started
    in the same turn so the loaders batch them by type."""
    found = await asyncio.gather(
        *(_one(info, representation) for representation in representations),
        return_exceptions=True,
    )
    return list(found)
