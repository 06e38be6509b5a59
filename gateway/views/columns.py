"""The type of each column of a view, read from the schema, for typed formats and describers.

    types = column_types(view, schema)        # {name: ColumnType}, in the view's column order
    types["customer_id"].kind                 # "id": digits, but text (never a number)

Kinds: `id` and `string` (text), `integer`, `float`, `boolean`, `decimal` (exact; a decimal
string in CSV and NDJSON), `timestamp` (an instant in UTC, RFC 3339 in CSV and NDJSON), and
`enum` (text from a fixed set, listed in `values`). A column is `nullable` when any field on
its path may be null or it picks a list element that may be absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLSchema, get_named_type

from gateway.views.model import View
from gateway.views.validate import column_leaves

Kind = Literal["id", "string", "integer", "float", "boolean", "decimal", "timestamp", "enum"]
_SCALAR_KINDS: dict[str, Kind] = {
    "ID": "id",
    "String": "string",
    "Int": "integer",
    "Float": "float",
    "Boolean": "boolean",
    "Decimal": "decimal",
    "DateTime": "timestamp",
}


@dataclass(frozen=True)
class ColumnType:
    """One column as a loader needs it: name, kind, GraphQL type, description, nullability."""

    name: str
    kind: Kind
    graphql_type: str
    description: str
    nullable: bool
    values: tuple[str, ...] = ()  # an enum's values

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "name": self.name,
            "type": self.kind,
            "graphqlType": self.graphql_type,
            "description": self.description,
            "nullable": self.nullable,
        }
        if self.values:
            described["values"] = list(self.values)
        return described


def column_types(view: View, schema: GraphQLSchema) -> dict[str, ColumnType]:
    """The type of each column of `view` (checked against `schema`), in column order."""
    types = {}
    for name, leaf in column_leaves(view, schema).items():
        named = get_named_type(leaf.type)
        enum = isinstance(named, GraphQLEnumType)
        kind: Kind = "enum" if enum else _SCALAR_KINDS.get(named.name, "string")
        inner = leaf.type.of_type if isinstance(leaf.type, GraphQLNonNull) else leaf.type
        types[name] = ColumnType(
            name=name,
            kind=kind,
            graphql_type=str(inner),
            description=leaf.description or "",
            nullable=leaf.nullable,
            values=tuple(named.values) if isinstance(named, GraphQLEnumType) else (),
        )
    return types
