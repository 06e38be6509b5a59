"""A request's access is analysed once: one walk of its operation, one computation of the
caller's row filters, one verdict per `Type.field`, before anything executes; nothing
recomputes them (spies count, tests.support.access_spy). An export runs all its pages on its
plan's one analysis; a subscription answers every event on its own (tests/gateway/
test_subscriptions.py).

Each request is measured after a warm-up: the warm-up builds the caller's visible schema,
which is derived once per scope set for the schema and then cached
(gateway.access.visibility), not per request. The warm-up's text differs by a trailing
space, so the measured request is not answered from the walk kept for a repeated document
(tests/gateway/test_access_shared.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from schema import selection
from tests.support.access_spy import AccessSpy
from tests.support.stack import ClientFor, GraphQLClient


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> AccessSpy:
    return AccessSpy.install(monkeypatch)


async def twice(spy: AccessSpy, client: GraphQLClient, query: str) -> dict[str, object]:
    """The answer to `query`, counted after a warm-up with the same document in another text."""
    await client.query(query + " ")
    spy.reset()
    return await client.query(query)


def assert_analysed_once(spy: AccessSpy) -> None:
    assert (spy.walks, spy.row_filters) == (1, 1)
    assert spy.decisions, "no field was decided"
    assert set(spy.decisions.values()) == {1}, spy.decisions


async def test_a_query_is_analysed_once(client_for: ClientFor, spy: AccessSpy) -> None:
    partner = client_for("partner", partner_id="DHL")
    query = "{ shipments(first: 20) { nodes { id carrier status } } }"
    body = await twice(spy, partner, query)
    assert_analysed_once(spy)
    data = body["data"]
    assert isinstance(data, dict)
    nodes = data["shipments"]["nodes"]
    assert nodes
    assert {n["carrier"] for n in nodes} == {"DHL"}  # the row filters applied


async def test_a_mutation_is_analysed_once(client_for: ClientFor, spy: AccessSpy) -> None:
    admin = client_for("admin")
    mutation = 'mutation { cancelOrder(id: "no-such-process") { status error { code } } }'
    body = await twice(spy, admin, mutation)
    assert_analysed_once(spy)
    assert "cancelOrder" in str(body)


async def test_an_export_of_several_pages_is_analysed_once(
    client_for: ClientFor, spy: AccessSpy
) -> None:
    admin = client_for("admin").http
    await admin.get("/views/order_lines.csv")
    spy.reset()
    answer = await admin.get("/views/order_lines.csv")
    assert answer.status_code == 200, answer.text
    rows = answer.text.strip().splitlines()[1:]
    assert len(rows) > 200  # pages of 200 orders (views_default.toml): several pages
    assert_analysed_once(spy)


async def test_a_partners_export_is_analysed_once_with_its_row_filters(
    client_for: ClientFor, spy: AccessSpy
) -> None:
    partner = client_for("partner", partner_id="DHL").http
    await partner.get("/views/shipments.ndjson")
    spy.reset()
    answer = await partner.get("/views/shipments.ndjson")
    assert answer.status_code == 200, answer.text
    assert answer.headers["Crossdock-Omitted-Columns"]  # the plan's denials, decided once
    assert_analysed_once(spy)
    assert "UPS" not in answer.text
    assert "DHL" in answer.text


async def test_shared_loads_read_what_the_operation_runs_from_the_analysis(
    client_for: ClientFor, spy: AccessSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`schema.selection.operation_reads` (may a shared load fetch destinations, lines?) is
    answered from the analysis' reached coordinates: the document is not walked again."""
    walked: list[str] = []
    walk = selection._selects_anywhere

    def counted(raw: Any, type_name: str, name: str) -> bool:
        walked.append(f"{type_name}.{name}")
        return walk(raw, type_name, name)

    monkeypatch.setattr(selection, "_selects_anywhere", counted)
    query = """{ shipments(first: 3) { nodes { id destination { city } } }
                 orders(first: 3) { nodes { shipments { id } } } }"""
    body = await client_for("admin").query(query)
    assert "errors" not in body, body
    data = body["data"]
    assert isinstance(data, dict)
    assert all(n["destination"] is not None for n in data["shipments"]["nodes"])
    assert walked == []
    assert spy.walks == 1
