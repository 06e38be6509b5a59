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
from collections.abc import Collection
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


def pruned(document: DocumentNode, denied: Collection[Path]) -> DocumentNode:
    """The document without the fields at `denied` response paths (nor emptied parents)."""
    op = document.definitions[0]
    assert isinstance(op, OperationDefinitionNode)  # checked at startup (validate.operation_of)
    op = dataclasses.replace(op, selection_set=_prune(op.selection_set, (), denied))
    return DocumentNode(definitions=(op,))


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
    text = print_ast(pruned(document, denied))
    return ViewPlan(view, columns, omitted, text, denials, analysis.serving(text))
