"""The schema honours the contract of DESIGN.md ("Canonical model") name for name, type for type.

The contract is copied here (long lines wrapped, connections spelt out); adding fields is allowed,
renaming or retyping one fails this test.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    build_schema,
    print_ast,
)

from schema.build import build_schema as build_crossdock_schema

CONTRACT = """
scalar DateTime   # RFC 3339 in UTC, e.g. "2026-03-01T10:00:00Z"
scalar Decimal    # decimal as a string, e.g. "1299.50"; never a float
type Money   { amount: Decimal!  currency: String! }          # ISO 4217
type Address { street: String city: String region: String postalCode: String
  country: String }  # ISO 3166-1 alpha-2 where known
type PageInfo { hasNextPage: Boolean!  endCursor: String }

type Customer { id: ID!  number: String  name: String!  industry: String  website: String
  email: String  phone: String  billingAddress: Address  shippingAddress: Address   # PII
  creditLimit: Money                                                              # finance
  createdAt: DateTime!  updatedAt: DateTime!
  orders(first: Int = 20, after: String, status: OrderStatus): OrderConnection }

enum OrderStatus { CREATED PENDING_APPROVAL APPROVED DELIVERED CANCELLED }
enum FulfillmentStatus { UNFULFILLED RESERVED PARTIALLY_SHIPPED SHIPPED DELIVERED }
type Order { id: ID!  number: String!  status: OrderStatus!  customer: Customer
  lines: [OrderLine!]!  subtotal: Money!  tax: Money!  total: Money!
  placedAt: DateTime!  updatedAt: DateTime!
  shipments: [Shipment!]  fulfillment: FulfillmentStatus }  # SCM-sourced, from the ERP mirror
type OrderLine { sku: String!  product: Product  quantity: Float!  unitPrice: Money!
  total: Money! }

type Product { sku: ID!  name: String!  description: String  active: Boolean!  uom: String
  listPrice: Money        # CRM
  unitCost: Money         # SCM valuation, finance
  stock: [StockLevel!]  available: Float }                       # SCM-sourced
type Warehouse { id: ID!  name: String!  company: String }
type StockLevel { warehouse: Warehouse!  onHand: Float!  reserved: Float!  available: Float!
  projected: Float! }

enum ShipmentStatus { DRAFT BOOKED IN_TRANSIT DELIVERED CANCELLED EXCEPTION }
type Shipment { id: ID!  order: Order  orderNumber: String  carrier: String  service: String
  trackingNumber: String  trackingUrl: String  status: ShipmentStatus!  pickupDate: String
  destination: Address                                                            # PII
  lines: [ShipmentLine!]!  value: Money }
type ShipmentLine { sku: String!  product: Product  quantity: Float! }

type Viewer { subject: String  roles: [String!]!  scopes: [String!]!  partnerId: String }

type Query {
  customer(id: ID!): Customer
  customers(first: Int = 20, after: String, search: String): CustomerConnection
  order(id: ID, number: String): Order
  orders(first: Int = 20, after: String, status: OrderStatus, customerId: ID): OrderConnection
  product(sku: ID!): Product
  products(first: Int = 20, after: String): ProductConnection
  warehouses: [Warehouse!]
  shipment(id: ID!): Shipment
  shipments(first: Int = 20, after: String, status: ShipmentStatus,
    carrier: String): ShipmentConnection
  viewer: Viewer!
}
"""
CONNECTIONS = "".join(
    f"type {n}Edge {{ cursor: String! node: {n}! }}\n"
    f"type {n}Connection {{ edges: [{n}Edge!]! nodes: [{n}!]! pageInfo: PageInfo! }}\n"
    for n in ("Customer", "Order", "Product", "Shipment")
)


@pytest.fixture(scope="module")
def contract() -> GraphQLSchema:
    return build_schema(CONTRACT + CONNECTIONS)


@pytest.fixture(scope="module")
def ours() -> GraphQLSchema:
    return build_crossdock_schema()._schema


def own_types(schema: GraphQLSchema) -> list[GraphQLNamedType]:
    return [t for name, t in schema.type_map.items() if not name.startswith("__")]


def signature(field: GraphQLField, *, from_sdl: bool) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for name, arg in field.args.items():
        if from_sdl:
            node = arg.ast_node.default_value if arg.ast_node else None
            default = None if node is None else print_ast(node)
        else:
            absent = arg.default_value is None or arg.default_value is Undefined
            default = None if absent else str(arg.default_value)
        args[name] = (str(arg.type), default)
    return {"type": str(field.type), "args": args}


def test_every_contract_field_exists_with_its_type_and_arguments(
    contract: GraphQLSchema, ours: GraphQLSchema
) -> None:
    problems: list[str] = []
    for wanted in own_types(contract):
        have = ours.type_map.get(wanted.name)
        if have is None:
            problems.append(f"missing type {wanted.name}")
        elif isinstance(wanted, GraphQLObjectType):
            assert isinstance(have, GraphQLObjectType)
            for name, field in wanted.fields.items():
                if name not in have.fields:
                    problems.append(f"missing field {wanted.name}.{name}")
                    continue
                want, got = (
                    signature(field, from_sdl=True),
                    signature(have.fields[name], from_sdl=False),
                )
                # Adding is allowed (DESIGN.md: "add, do not rename"): an argument beyond the
                # contract must be optional, so every contract-conforming query still works.
                added = {a: t for a, t in got["args"].items() if a not in want["args"]}
                got["args"] = {a: t for a, t in got["args"].items() if a in want["args"]}
                if want != got:
                    problems.append(f"{wanted.name}.{name}: contract {want}, schema {got}")
                required = [a for a, (kind, _) in added.items() if kind.endswith("!")]
                if required:
                    problems.append(f"{wanted.name}.{name}: added required args {required}")
        elif isinstance(wanted, GraphQLEnumType):
            assert isinstance(have, GraphQLEnumType)
            if set(wanted.values) != set(have.values):
                problems.append(f"enum {wanted.name}: {sorted(have.values)}")
    assert problems == []


def test_every_type_and_field_has_a_description(ours: GraphQLSchema) -> None:
    undocumented = []
    for named in own_types(ours):
        if named.name in ("String", "Int", "Float", "Boolean", "ID"):
            continue
        if not named.description:
            undocumented.append(named.name)
        if isinstance(named, GraphQLObjectType):
            undocumented += [
                f"{named.name}.{name}" for name, f in named.fields.items() if not f.description
            ]
    assert undocumented == []
