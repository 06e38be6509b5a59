"""What a resolver can read of its own selection: paths through fragments, denials, memo."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import strawberry

from gateway.app import create_app
from gateway.protection.hardening import Hardening
from gateway.settings import Settings
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from schema import selection
from schema.analysis import FieldDecision, RequestAnalysis
from schema.context import GatewayContext
from schema.principal import ANONYMOUS
from schema.selection import operation_selects, prefetches, selected_names, selects
from tests.support.stack import GATEWAY_URL, GraphQLClient


@dataclass
class Context(GatewayContext):
    """The gateway's context over no backend (nothing here loads), with what resolvers saw."""

    seen: dict[str, Any] = field(default_factory=dict)


def new_context(denied: frozenset[str] = frozenset()) -> Context:
    analysis = RequestAnalysis(ANONYMOUS, decisions={c: FieldDecision("deny") for c in denied})
    return Context(crm=None, scm=None, analysis=analysis)  # type: ignore[arg-type]


@strawberry.type
class Level:
    on_hand: int = 1
    warehouse: str = "Stores"


@strawberry.type
class Product:
    sku: str = "SKU-1"
    stock: list[Level] = strawberry.field(default_factory=lambda: [Level()])


@strawberry.type
class Query:
    @strawberry.field
    def product(self, info: strawberry.Info[Context, None]) -> Product:
        seen = info.context.seen
        seen["names"] = selected_names(info)
        seen["stock_warehouse"] = selects(info, "stock", "warehouse")
        seen["prefetch"] = prefetches(info, ("Product", "stock"), ("Level", "warehouse"))
        seen["anywhere"] = operation_selects(info, "Level", "onHand")
        seen["elsewhere"] = operation_selects(info, "Product", "onHand")  # not Product's field
        return Product()


SCHEMA = strawberry.Schema(Query)


async def seen_for(query: str, context: Context | None = None) -> dict[str, Any]:
    context = context or new_context()
    result = await SCHEMA.execute(query, context_value=context)
    assert result.errors is None, result.errors
    return context.seen


async def test_a_path_is_found_through_aliases_fragments_and_inline_fragments() -> None:
    seen = await seen_for(
        """{ product { s: stock { ...L } } }
           fragment L on Level { ... on Level { w: warehouse } }"""
    )
    assert seen["stock_warehouse"] is True
    assert seen["names"] == frozenset({"stock"})


async def test_a_path_that_stops_short_is_not_selected() -> None:
    seen = await seen_for("{ product { sku stock { onHand } } }")
    assert seen["stock_warehouse"] is False
    assert seen["anywhere"] is True
    assert seen["elsewhere"] is False


async def test_a_denied_step_is_never_prefetched_though_selected() -> None:
    query = "{ product { stock { warehouse } } }"
    assert (await seen_for(query))["prefetch"] is True
    denied = new_context(frozenset({"Level.warehouse"}))
    assert (await seen_for(query, denied))["prefetch"] is False


async def test_field_answers_are_kept_for_the_request() -> None:
    context = new_context()
    await seen_for("{ product { sku } }", context)
    assert len(context.memo) == 2  # direct names, the stock.warehouse path


async def test_operation_wide_answers_are_kept_per_document_across_requests(
    settings: Settings, crm: ZohoCRM, scm: ERPNext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without access control there is no analysis to read what the operation runs from:
    the gateway parses a repeated document once (its limits cache it), and its
    operation-wide answers are walked once too, not once per request."""
    walks: list[tuple[str, str]] = []
    walk = selection._selects_anywhere

    def spy(raw: Any, type_name: str, name: str) -> bool:
        walks.append((type_name, name))
        return walk(raw, type_name, name)

    monkeypatch.setattr(selection, "_selects_anywhere", spy)
    extensions = Hardening.from_settings(settings).extensions  # the limits' parse cache
    app = create_app(settings, crm=crm, scm=scm, extensions=extensions)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        gql = GraphQLClient(http)
        query = "{ shipments(first: 2) { nodes { id lines { sku } } } }"
        for _ in range(3):
            await gql.data(query)
    assert walks  # the shipments ask whether destination / lines are read anywhere
    assert len(walks) == len(set(walks))  # each question walked once for the three requests


async def test_a_context_reused_for_another_document_gets_fresh_answers() -> None:
    context = new_context()
    await seen_for("{ product { sku } }", context)
    seen = await seen_for("{ product { stock { onHand warehouse } } }", context)
    assert seen["anywhere"] is True
    assert seen["stock_warehouse"] is True
