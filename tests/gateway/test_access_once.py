"""A request's access is computed once: the caller's row filters when its context is built,
the operation's analysis once before execution; nothing recomputes them (spies count)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import gateway.access.extension
import gateway.wiring
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.support.stack import GATEWAY_URL, gateway_settings, token_for

CALLS: Counter[str] = Counter()


def counted(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def spy(*args: Any, **kwargs: Any) -> Any:
        CALLS[name] += 1
        return function(*args, **kwargs)

    return spy


@pytest.fixture
async def http(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext, monkeypatch: pytest.MonkeyPatch
) -> httpx.AsyncClient:
    CALLS.clear()
    filters = gateway.wiring.row_filters
    monkeypatch.setattr(gateway.wiring, "row_filters", counted("row_filters", filters))
    analyse = gateway.access.extension.analyse_operation
    monkeypatch.setattr(gateway.access.extension, "analyse_operation", counted("analyse", analyse))
    app = assemble(gateway_settings(tmp_path), crm=crm, scm=scm)
    headers = {"Authorization": f"Bearer {token_for('partner', partner_id='DHL')}"}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=GATEWAY_URL, headers=headers
    )


async def test_a_query_computes_the_callers_access_once(http: httpx.AsyncClient) -> None:
    query = "{ shipments(first: 20) { nodes { id carrier status } } }"
    answer = await http.post("/graphql", json={"query": query})
    assert answer.status_code == 200
    assert {n["carrier"] for n in answer.json()["data"]["shipments"]["nodes"]} == {"DHL"}
    assert CALLS == {"row_filters": 1, "analyse": 1}


async def test_an_export_computes_the_row_filters_once_for_all_its_pages(
    http: httpx.AsyncClient,
) -> None:
    admin = {"Authorization": f"Bearer {token_for('admin')}"}
    answer = await http.get("/views/order_lines.csv", headers=admin)
    assert answer.status_code == 200, answer.text
    assert CALLS["row_filters"] == 1  # the export request's context, copied to every page
    assert CALLS["analyse"] >= 2  # one analysis per page's operation, and several pages
