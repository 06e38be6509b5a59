"""The production gateway (`gateway.wiring.assemble`) with the views mounted on it.

    async def test_x(views: ViewsClient) -> None:
        response = await views.get("/views/order_lines.ndjson", bearer=token("analyst"))

Tokens are real HS256 JWTs checked by the real Authenticator; the views run through the
same GraphQL app (its `get_context`, extensions and limits) as `/graphql`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.settings import Settings
from gateway.settings.views import ViewSettings
from gateway.views import ViewCatalog, ViewOptions, load_views, mount_views
from gateway.wiring import assemble, load_policy
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.conftest import GATEWAY_URL, token_for


@pytest.fixture(scope="session")
def catalog() -> ViewCatalog:
    return load_views(None)


@pytest.fixture
def view_options() -> ViewOptions:
    return ViewOptions()


@pytest.fixture
async def views_app(
    settings: Settings,
    crm: ZohoCRM,
    scm: ERPNext,
    catalog: ViewCatalog,
    view_options: ViewOptions,
) -> AsyncIterator[Starlette]:
    """The production app, with the views mounted with this test's options.

    `assemble` mounts the configured views itself; here they are switched off there and
    mounted by hand, so a test can choose its ViewOptions (the same call `assemble` makes).
    """
    app = assemble(replace(settings, views=ViewSettings(enabled=False)), crm=crm, scm=scm)
    policy = load_policy(settings)
    mount_views(app, catalog, policy=policy, options=view_options, limits=settings.limits.default)
    async with app.router.lifespan_context(app):
        yield app


def token(
    role: str | None = None, *, scopes: Sequence[str] = (), partner: str | None = None
) -> str:
    return token_for(role, scopes=tuple(scopes), partner_id=partner)


class ViewsClient:
    """Calls the gateway with a bearer token; `graphql` posts the same documents to /graphql."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def get(self, url: str, *, bearer: str | None = None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return await self.http.get(url, params=params, headers=headers)

    async def graphql(self, bearer: str, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


def ndjson(response: httpx.Response) -> list[dict[str, Any]]:
    """The rows of an NDJSON export: every line is a row (no trailer, no error record)."""
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def csv_rows(response: httpx.Response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))


@pytest.fixture
async def views(views_app: Starlette) -> AsyncIterator[ViewsClient]:
    transport = httpx.ASGITransport(app=views_app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as client:
        yield ViewsClient(client)
