"""The production gateway (`gateway.wiring.assemble`) with the views mounted on it.

    async def test_x(views: ViewsClient) -> None:
        response = await views.get("/views/order_lines.ndjson", bearer=token("analyst"))

Tokens are real HS256 JWTs checked by the real Authenticator; the views run through the
same GraphQL app (its `get_context`, extensions and limits) as `/graphql`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette

from gateway.settings import Settings
from gateway.settings.views import ViewSettings
from gateway.views import ViewCatalog, ViewOptions, load_views, mount_views
from gateway.wiring import assemble, load_policy
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.support.stack import GATEWAY_URL
from tests.support.views import ViewsClient


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


@pytest.fixture
async def views(views_app: Starlette) -> AsyncIterator[ViewsClient]:
    transport = httpx.ASGITransport(app=views_app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as client:
        yield ViewsClient(client)
