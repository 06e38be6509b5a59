"""Startup checks of every view against the schema: a bad view stops the gateway.

Each error names the view, the column and the path, and says what to fix:
`view 'order_lines', column 'sku': path 'lines.skew': 'skew' is not selected in the document`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    parse,
    validate,
)

from gateway.protection.limits import Limits, check_document
from gateway.views.model import View, ViewCatalog, ViewConfigError

REQUIRED_VARIABLES = ("first", "after")
INCREMENTAL_VARIABLE = "updatedSince"


@functools.lru_cache(maxsize=256)
def _parse(text: str) -> DocumentNode:
    return parse(text)


def parse_document(view: View) -> DocumentNode:
    """The view's document, parsed once (the AST is never changed in place)."""
    try:
        return _parse(view.document)
    except GraphQLError as err:
        raise ViewConfigError(
            f"view {view.name!r}: document is not GraphQL: {err.message}"
        ) from err


def operation_of(document: DocumentNode) -> OperationDefinitionNode:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(ops) != 1 or len(document.definitions) != 1 or ops[0].operation != OperationType.QUERY:
        raise ViewConfigError("the document must hold exactly one query and no fragments")
    return ops[0]


def variables_of(document: DocumentNode) -> frozenset[str]:
    op = operation_of(document)
    return frozenset(v.variable.name.value for v in op.variable_definitions or ())


def is_incremental(view: View) -> bool:
    """True when the view's document declares `$updatedSince`."""
    return INCREMENTAL_VARIABLE in variables_of(parse_document(view))


def response_key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def find_field(selections: SelectionSetNode | None, key: str) -> FieldNode | None:
    """The field selected under `key`, looking through inline fragments."""
    for selection in selections.selections if selections else ():
        if isinstance(selection, FieldNode) and response_key(selection) == key:
            return selection
        if isinstance(selection, InlineFragmentNode):
            found = find_field(selection.selection_set, key)
            if found is not None:
                return found
    return None


def _fields(selections: SelectionSetNode | None) -> list[FieldNode]:
    return [s for s in (selections.selections if selections else ()) if isinstance(s, FieldNode)]


def _spreads(selections: SelectionSetNode | None) -> Iterator[FragmentSpreadNode]:
    for selection in selections.selections if selections else ():
        if isinstance(selection, FragmentSpreadNode):
            yield selection
        elif isinstance(selection, (FieldNode, InlineFragmentNode)):
            yield from _spreads(selection.selection_set)


@dataclass(frozen=True)
class Leaf:
    """Where a view path ends: the field's type, whether the cell can be null on the way
    (a nullable field or a list index that may be past the end), the field's description."""

    type: GraphQLOutputType
    nullable: bool
    description: str | None


class _Walk:
    """Follows a view path through the document's selections and the schema's types."""

    def __init__(self, view: View, selections: SelectionSetNode | None, node: GraphQLObjectType):
        self.view = view
        self.start = (selections, node)

    def check(self, path: tuple[str, ...], fan_out: int | None, label: str) -> Leaf:
        selections, parent = self.start
        current: GraphQLOutputType = GraphQLNonNull(parent)
        nullable, description = False, None
        where = f"view {self.view.name!r}, {label}: path {'.'.join(path)!r}"
        for i, segment in enumerate(path):
            nullable = nullable or not isinstance(current, GraphQLNonNull)
            inner = current.of_type if isinstance(current, GraphQLNonNull) else current
            if segment.isdigit():
                if not isinstance(inner, GraphQLList):
                    raise ViewConfigError(f"{where}: {segment!r} indexes something not a list")
                current, nullable = inner.of_type, True
                continue
            if isinstance(inner, GraphQLList) and fan_out != i:
                raise ViewConfigError(
                    f"{where}: {path[i - 1]!r} is a list; pick an element ('{path[i - 1]}.0') "
                    "or make it the view's rows path"
                )
            if isinstance(inner, GraphQLList):
                inner = inner.of_type
                inner = inner.of_type if isinstance(inner, GraphQLNonNull) else inner
            named = get_named_type(inner)
            node = find_field(selections, segment)
            if node is None or not isinstance(named, GraphQLObjectType):
                raise ViewConfigError(f"{where}: {segment!r} is not selected in the document")
            field = named.fields[node.name.value]
            current, description = field.type, field.description
            selections = node.selection_set
        nullable = nullable or not isinstance(current, GraphQLNonNull)
        return Leaf(current, nullable, description)


def _check_leaf(kind: GraphQLOutputType, where: str) -> None:
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if isinstance(inner, GraphQLList):
        raise ViewConfigError(f"{where} ends at a list; pick an element with an index")
    if not isinstance(inner, (GraphQLScalarType, GraphQLEnumType)):
        raise ViewConfigError(f"{where} ends at an object; name one of its scalar fields")


def _connection(view: View, op: OperationDefinitionNode, schema: GraphQLSchema) -> _Walk:
    where = f"view {view.name!r}: connection {view.connection!r}"
    root = find_field(op.selection_set, view.connection)
    query = schema.query_type
    if root is None or query is None:
        raise ViewConfigError(f"{where} is not a root field selected in the document")
    named = get_named_type(query.fields[root.name.value].type)
    nodes = find_field(root.selection_set, "nodes")
    page_info = find_field(root.selection_set, "pageInfo")
    keys = {response_key(f) for f in _fields(page_info.selection_set if page_info else None)}
    if not isinstance(named, GraphQLObjectType) or "pageInfo" not in named.fields:
        raise ViewConfigError(f"{where} is not a connection (no pageInfo)")
    if nodes is None or not {"hasNextPage", "endCursor"} <= keys:
        raise ViewConfigError(
            f"{where} must select nodes {{ … }} and pageInfo {{ hasNextPage endCursor }}"
        )
    node_type = get_named_type(named.fields["nodes"].type)
    assert isinstance(node_type, GraphQLObjectType)
    return _Walk(view, nodes.selection_set, node_type)


def _check_limits(
    view: View, document: DocumentNode, schema: GraphQLSchema, limits: Limits
) -> None:
    """A page of the view must pass the operation limits every GraphQL request passes."""
    breaches = check_document(schema, document, limits, variables={"first": view.page_size})
    if breaches:
        raise ViewConfigError(
            f"view {view.name!r}: a page of {view.page_size} breaks the operation limits "
            f"({breaches[0].message}); lower its page_size"
        )


def check_view(view: View, schema: GraphQLSchema, *, limits: Limits | None = None) -> None:
    """Raise ViewConfigError naming the first fault of `view` against `schema` (and limits)."""
    document = parse_document(view)
    errors = validate(schema, document)
    if errors:
        raise ViewConfigError(f"view {view.name!r}: document is invalid: {errors[0].message}")
    try:
        op = operation_of(document)
    except ViewConfigError as err:
        raise ViewConfigError(f"view {view.name!r}: {err}") from None
    if next(_spreads(op.selection_set), None) is not None:
        raise ViewConfigError(f"view {view.name!r}: named fragments are not supported; inline them")
    missing = [v for v in REQUIRED_VARIABLES if v not in variables_of(document)]
    if missing:
        raise ViewConfigError(
            f"view {view.name!r}: the document must declare ${', $'.join(missing)}"
        )
    walk = _connection(view, op, schema)
    if view.rows:
        rows = walk.check(view.rows, None, "rows").type
        inner = rows.of_type if isinstance(rows, GraphQLNonNull) else rows
        if not isinstance(inner, GraphQLList) or not isinstance(
            get_named_type(inner), GraphQLObjectType
        ):
            raise ViewConfigError(f"view {view.name!r}: rows must name a list of objects")
    for column in view.columns:
        fan_out = len(view.rows) if view.under_rows(column) else None
        label = f"column {column.name!r}"
        kind = walk.check(column.path, fan_out, label).type
        _check_leaf(kind, f"view {view.name!r}, {label}: path {column.source!r}")
    if limits is not None:
        _check_limits(view, document, schema, limits)


def check_views(
    catalog: ViewCatalog, schema: GraphQLSchema, *, limits: Limits | None = None
) -> None:
    """Check every view of the catalog; the first fault raises."""
    for view in catalog:
        check_view(view, schema, limits=limits)


def column_leaves(view: View, schema: GraphQLSchema) -> dict[str, Leaf]:
    """Where each column of a checked view ends in the schema, by column name."""
    walk = _connection(view, operation_of(parse_document(view)), schema)
    leaves = {}
    for column in view.columns:
        fan_out = len(view.rows) if view.under_rows(column) else None
        leaves[column.name] = walk.check(column.path, fan_out, f"column {column.name!r}")
    return leaves
