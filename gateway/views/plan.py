"""Per caller: which columns of a view may be read, decided before anything runs.

The view's document goes through the same analysis as every GraphQL operation
(`gateway.access.analysis.analyse_request`), once per export. A column whose path crosses a
denied field is omitted, and that field is pruned from the document, so it costs no backend
call and raises no error; masked fields stay (the access extension masks their values during
execution). A view is unreadable when its connection, its rows path or every column is
denied. The plan keeps the analysis: every page of the export runs on it.

    plan = plan_view(view, schema, principal, policy)
    plan.columns, plan.omitted, plan.document    # document: the pruned query text
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    print_ast,
)

from gateway.access.analysis import analyse_request
from gateway.access.policy import Policy
from gateway.views.model import Column, View
from gateway.views.validate import parse_document, response_key
from schema.analysis import Denial, RequestAnalysis, unrestricted
from schema.principal import Principal

Path = tuple[str, ...]


@dataclass(frozen=True)
class ViewPlan:
    """What one caller gets from one view: readable columns and the query that fetches them."""

    view: View
    columns: tuple[Column, ...]
    omitted: tuple[Column, ...]
    document: str
    denials: tuple[Denial, ...] = ()
    # what access control decided for `document`: every page of the export runs on it
    analysis: RequestAnalysis | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _crosses(path: Path, denied: Collection[Path]) -> bool:
    return any(path[: len(d)] == d for d in denied)


def _prune(selections: SelectionSetNode, here: Path, denied: Collection[Path]) -> SelectionSetNode:
    kept: list[SelectionNode] = []
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            path = (*here, response_key(selection))
            if path in denied:
                continue
            if selection.selection_set is not None:
                inner = _prune(selection.selection_set, path, denied)
                if not inner.selections:
                    continue
                selection = dataclasses.replace(selection, selection_set=inner)
        elif isinstance(selection, InlineFragmentNode):
            inner = _prune(selection.selection_set, here, denied)
            selection = dataclasses.replace(selection, selection_set=inner)
        kept.append(selection)
    return SelectionSetNode(selections=tuple(kept))


def _operation(document: DocumentNode) -> OperationDefinitionNode:
    op = document.definitions[0]
    assert isinstance(op, OperationDefinitionNode)  # checked at startup (validate.operation_of)
    return op


def pruned(document: DocumentNode, denied: Collection[Path]) -> DocumentNode:
    """The document without the fields at `denied` response paths (nor emptied parents)."""
    op = _operation(document)
    op = dataclasses.replace(op, selection_set=_prune(op.selection_set, (), denied))
    return DocumentNode(definitions=(op,))


def _paths(selections: SelectionSetNode, here: Path) -> Iterator[Path]:
    """The response path of every field a view's query selects (no named fragments)."""
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            path = (*here, response_key(selection))
            yield path
            if selection.selection_set is not None:
                yield from _paths(selection.selection_set, path)
        elif isinstance(selection, InlineFragmentNode):
            yield from _paths(selection.selection_set, here)


def plan_view(
    view: View, schema: GraphQLSchema, principal: Principal, policy: Policy | None
) -> ViewPlan | None:
    """The caller's plan for `view`, or None when the caller may not read the view at all.

    The view's document is analysed once (`analyse_request`); the plan keeps that analysis
    for the pruned document its export runs, page after page."""
    document = parse_document(view)
    if policy is None:
        text = print_ast(document)
        return ViewPlan(view, view.columns, (), text, analysis=unrestricted(principal, text))
    analysis = analyse_request(policy, principal, schema, document)
    denials = analysis.denials
    denied = {d.path for d in denials}
    spine = (view.connection, "nodes", *(s for s in view.rows if not s.isdigit()))
    if _crosses(spine, denied):
        return None
    columns = tuple(c for c in view.columns if not _crosses(view.response_path(c), denied))
    if not columns:
        return None
    omitted = tuple(c for c in view.columns if c not in columns)
    query = pruned(document, denied)
    kept = frozenset(_paths(_operation(query).selection_set, ()))
    text = print_ast(query)
    return ViewPlan(view, columns, omitted, text, denials, analysis.serving(text, kept))
