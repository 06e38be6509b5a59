"""What a field's selection asks for, read from the document (fragments included).

Resolvers use it to start backend loads early, in parallel, and only when the answer needs
them: `selects(info, "stock", "warehouse")` is True when the current field selects `stock`
and, under it, `warehouse` (through any fragment or inline fragment, whatever the alias).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar, cast

from graphql import (
    BREAK,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    visit,
)

from schema.context import GatewayContext

T = TypeVar("T")


def _fields(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> Iterator[FieldNode]:
    if selection_set is None:
        return
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            yield node
        elif isinstance(node, InlineFragmentNode):
            yield from _fields(node.selection_set, fragments, seen)
        elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
            fragment = fragments.get(node.name.value)
            if fragment is not None:
                yield from _fields(fragment.selection_set, fragments, seen | {node.name.value})


def selects_under(
    nodes: Iterable[FieldNode], fragments: Mapping[str, FragmentDefinitionNode], *path: str
) -> bool:
    """True when the selection sets of `nodes` reach the field names `path`, in order."""
    current = list(nodes)
    for name in path:
        current = [
            child
            for node in current
            for child in _fields(node.selection_set, fragments)
            if child.name.value == name
        ]
        if not current:
            return False
    return True


def _memo(info: Any, key: tuple[Any, ...], answer: Callable[[], T]) -> T:
    """`answer()` once per request and field node: list items share their field's nodes.

    Keyed by the node's id, and the node is kept with the answer and compared on reading,
    so a context copied to another execution (another document) never reads a stale answer.
    """
    raw = getattr(info, "_raw_info", info)
    return remember(info, (*key, id(raw.field_nodes[0])), raw.field_nodes[0], answer)


def remember(info: Any, key: tuple[Any, ...], owner: object, answer: Callable[[], T]) -> T:
    """`answer()`, memoised on the request context under `key` while `owner` is the same."""
    context = info.context
    if not isinstance(context, GatewayContext):  # a test schema's own context: no memo
        return answer()
    memo = context.memo
    found = memo.get(key)
    if found is None or found[0] is not owner:
        found = memo[key] = (owner, answer())
    return cast(T, found[1])


def selected_names(info: Any) -> frozenset[str]:
    """The field names the current field selects directly (aliases resolved)."""
    raw = getattr(info, "_raw_info", info)

    def names() -> frozenset[str]:
        return frozenset(
            child.name.value
            for node in raw.field_nodes
            for child in _fields(node.selection_set, raw.fragments)
        )

    return _memo(info, ("names",), names)


def names_under(info: Any, *path: str) -> frozenset[str]:
    """The field names selected at the end of `path` below the current field (aliases
    resolved, fragments included): `names_under(info, "stock", "warehouse")`; with no path,
    what the current field selects directly."""
    raw = getattr(info, "_raw_info", info)

    def names() -> frozenset[str]:
        current = list(raw.field_nodes)
        for name in path:
            current = [
                child
                for node in current
                for child in _fields(node.selection_set, raw.fragments)
                if child.name.value == name
            ]
        return frozenset(
            child.name.value
            for node in current
            for child in _fields(node.selection_set, raw.fragments)
        )

    return _memo(info, ("names_under", *path), names)


def selects(info: Any, *path: str) -> bool:
    """True when the field being resolved selects `path` (see `selects_under`).

    `info` is strawberry's Info (its graphql-core info is `_raw_info`: strawberry's own
    `selected_fields` converts the whole sub-selection, far costlier) or graphql-core's.
    """
    raw = getattr(info, "_raw_info", info)
    return _memo(
        info, ("selects", *path), lambda: selects_under(raw.field_nodes, raw.fragments, *path)
    )


# operation_selects' answers, per parsed operation: they depend on the document and the schema
# only, and the gateway parses a repeated document once (gateway.protection.limits caches it),
# so a repeated query walks its document once, not once per request. Bounded: cleared when full.
_DOCUMENT_ANSWERS: dict[int, tuple[object, dict[tuple[int, str, str], bool]]] = {}
MAX_DOCUMENTS = 512


def operation_selects(info: Any, type_name: str, name: str) -> bool:
    """True when the operation selects `type_name.name` anywhere (fragments included), by the
    field's parent type: `Shipment.lines` is not `Order.lines`.

    For loads shared by several fields: the connector fetches what any of them may need.
    Answered once per parsed document (`_DOCUMENT_ANSWERS`).
    """
    raw = getattr(info, "_raw_info", info)
    operation = raw.operation
    entry = _DOCUMENT_ANSWERS.get(id(operation))
    if entry is None or entry[0] is not operation:  # a new document (or a reused id)
        if len(_DOCUMENT_ANSWERS) >= MAX_DOCUMENTS:
            _DOCUMENT_ANSWERS.clear()
        entry = _DOCUMENT_ANSWERS[id(operation)] = (operation, {})
    answers = entry[1]
    key = (id(raw.schema), type_name, name)
    found = answers.get(key)
    if found is None:
        found = answers[key] = _selects_anywhere(raw, type_name, name)
    return found


def _selects_anywhere(raw: Any, type_name: str, name: str) -> bool:
    found: list[bool] = []
    type_info = TypeInfo(raw.schema)

    class Finder(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> Any:
            parent = type_info.get_parent_type()
            if node.name.value == name and parent is not None and parent.name == type_name:
                found.append(True)
                return BREAK
            return None

    for definition in (raw.operation, *raw.fragments.values()):
        visit(definition, TypeInfoVisitor(type_info, Finder()))
        if found:
            return True
    return False


def prefetches(info: Any, *steps: tuple[str, str]) -> bool:
    """True when the current field selects the path of `(Type, field)` steps and access
    control denies none of them: a load for a denied field must never start.

        prefetches(info, ("Product", "stock"), ("StockLevel", "warehouse"))
    """
    denied = _denied(info)
    if any(f"{type_name}.{name}" in denied for type_name, name in steps):
        return False
    return selects(info, *(name for _, name in steps))


def operation_reads(info: Any, type_name: str, name: str) -> bool:
    """True when the operation selects `name` anywhere and access control does not deny
    `type_name.name`: what a shared load may fetch for it (a denied field costs no call).
    Answered from the request's analysis (access control's walk: what the operation runs)
    when there is one, else from the document.

        operation_reads(info, "Shipment", "destination")  # the Address call, or not
    """
    context = info.context
    analysis = context.analysis if isinstance(context, GatewayContext) else None
    known = None if analysis is None else analysis.reads(type_name, name)
    if known is not None:  # what access control's walk found the operation runs
        return known
    return f"{type_name}.{name}" not in _denied(info) and operation_selects(info, type_name, name)


def _denied(info: Any) -> frozenset[str]:
    """The coordinates access control denies in this operation (none outside the gateway)."""
    context = info.context
    return context.denied if isinstance(context, GatewayContext) else frozenset()
