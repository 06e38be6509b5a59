"""A test double of the Crossdock graph: the DESIGN.md contract over in-memory rows.

Root fields live here; the object types are in `contract_types`, the counting field builders
and `ContractContext` in `contract_fields`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from schema.principal import ANONYMOUS, Principal
from tests.gateway.contract_fields import ContractContext, contract_context, hit
from tests.gateway.contract_types import (
    CUSTOMERS,
    ORDERS,
    PRODUCTS,
    WAREHOUSES,
    Customer,
    CustomerConnection,
    CustomerEdge,
    Order,
    OrderConnection,
    PageInfo,
    Product,
    ProductConnection,
    ProductEdge,
    Shipment,
    ShipmentConnection,
    ShipmentEdge,
    Warehouse,
    find_customer,
    find_order,
    find_product,
    order_connection,
    visible_shipments,
)

__all__ = ["ContractContext", "contract_schema", "principal_for", "run"]


@strawberry.type
class Viewer:
    subject: str | None
    roles: list[str]
    scopes: list[str]
    partner_id: str | None


@strawberry.type
class OrderProcess:
    id: strawberry.ID
    status: str


@strawberry.type
class PlaceOrderResult:
    process_id: str
    status: str
    order: Order | None


@strawberry.type
class Query:
    @strawberry.field
    def customer(self, info: strawberry.Info, id: strawberry.ID) -> Customer | None:
        hit(info)
        return find_customer(str(id))

    @strawberry.field
    def customers(
        self, info: strawberry.Info, first: int = 20, after: str | None = None
    ) -> CustomerConnection | None:
        hit(info)
        nodes = [Customer(row=c) for c in CUSTOMERS[:first]]
        edges = [CustomerEdge(cursor=c.row["id"], node=c) for c in nodes]
        return CustomerConnection(edges=edges, nodes=nodes, page_info=PageInfo())

    @strawberry.field
    def order(
        self, info: strawberry.Info, id: strawberry.ID | None = None, number: str | None = None
    ) -> Order | None:
        hit(info)
        return find_order(str(id))

    @strawberry.field
    def orders(self, info: strawberry.Info, first: int = 20) -> OrderConnection | None:
        hit(info)
        return order_connection([Order(row=o) for o in ORDERS[:first]])

    @strawberry.field
    def product(self, info: strawberry.Info, sku: strawberry.ID) -> Product | None:
        hit(info)
        return find_product(str(sku))

    @strawberry.field
    def products(self, info: strawberry.Info, first: int = 20) -> ProductConnection | None:
        hit(info)
        nodes = [Product(row=p) for p in PRODUCTS[:first]]
        edges = [ProductEdge(cursor=p.row["sku"], node=p) for p in nodes]
        return ProductConnection(edges=edges, nodes=nodes, page_info=PageInfo())

    @strawberry.field
    def warehouses(self, info: strawberry.Info) -> list[Warehouse] | None:
        hit(info)
        return [Warehouse(row=w) for w in WAREHOUSES]

    @strawberry.field
    async def shipment(self, info: strawberry.Info, id: strawberry.ID) -> Shipment | None:
        found = [s for s in visible_shipments(hit(info)) if s.row["id"] == str(id)]
        return found[0] if found else None

    @strawberry.field
    async def shipments(
        self, info: strawberry.Info, first: int = 20, carrier: str | None = None
    ) -> ShipmentConnection | None:
        nodes = [s for s in visible_shipments(hit(info)) if carrier in (None, s.carrier)][:first]
        edges = [ShipmentEdge(cursor=s.row["id"], node=s) for s in nodes]
        return ShipmentConnection(edges=edges, nodes=nodes, page_info=PageInfo())

    @strawberry.field
    def viewer(self, info: strawberry.Info) -> Viewer:
        p = hit(info).principal
        return Viewer(
            subject=p.subject,
            roles=sorted(p.roles),
            scopes=sorted(p.scopes),
            partner_id=p.partner_id,
        )

    @strawberry.field
    def order_process(self, info: strawberry.Info, id: strawberry.ID) -> OrderProcess | None:
        hit(info)
        return OrderProcess(id=id, status="COMPLETED")


@strawberry.type
class Mutation:
    @strawberry.mutation
    def place_order(self, info: strawberry.Info, sku: str, quantity: int) -> PlaceOrderResult:
        hit(info)
        return PlaceOrderResult(process_id="P1", status="APPROVED", order=find_order("O1"))

    @strawberry.mutation
    def approve_order(self, info: strawberry.Info, id: strawberry.ID) -> PlaceOrderResult:
        hit(info)
        return PlaceOrderResult(process_id="P1", status="APPROVED", order=find_order(str(id)))

    @strawberry.mutation
    def cancel_order(self, info: strawberry.Info, id: strawberry.ID) -> PlaceOrderResult:
        hit(info)
        return PlaceOrderResult(process_id="P1", status="CANCELLED", order=find_order(str(id)))


def contract_schema(extensions: Sequence[type[SchemaExtension]] = ()) -> strawberry.Schema:
    """The contract graph with the given extensions (e.g. the access extension)."""
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=list(extensions))


async def run(
    schema: strawberry.Schema,
    query: str,
    principal: Principal = ANONYMOUS,
    variables: dict[str, Any] | None = None,
    context_type: type[ContractContext] = ContractContext,
) -> tuple[ExecutionResult, ContractContext]:
    """Execute `query` as `principal`; the context tells which resolvers ran (and holds the
    analysis the access extension gave it before execution)."""
    context = contract_context(principal, context_type)
    result = await schema.execute(query, variable_values=variables, context_value=context)
    return result, context


def principal_for(role: str, policy: Any, *, partner_id: str | None = "DHL") -> Principal:
    """A verified caller holding one role, as the authenticator would build it."""
    claims = {"sub": f"user-{role}", "roles": [role]}
    if role == "partner" and partner_id is not None:
        claims["partner_id"] = partner_id
    return Principal(
        subject=f"user-{role}",
        roles=frozenset({role}),
        scopes=policy.scopes_of_roles({role}),
        partner_id=partner_id if role == "partner" else None,
        claims=claims,
    )
