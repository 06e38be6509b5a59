"""Mounting the views on an app made by `gateway.app.create_app`, over its own /graphql.

    app = create_app(settings, crm=crm, scm=scm, authenticate=..., extensions=[access])
    mount_views(app, load_views(None), policy=policy)

The views reuse the /graphql endpoint's schema (with every extension) and its `get_context`
(authentication, row rules, fresh loaders), so an export sees what the same query would.
"""

from __future__ import annotations

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.access.policy import Policy
from gateway.app import GraphQLApp
from gateway.protection.limits import Limits
from gateway.views.model import ViewCatalog
from gateway.views.routes import RequestContextFactory, ViewOptions, view_routes
from gateway.views.validate import check_views
from schema.context import GatewayContext


def graphql_endpoint(app: Starlette) -> GraphQLApp:
    """The strawberry app serving /graphql (a `gateway.app.GraphQLApp`)."""
    for route in app.routes:
        if not isinstance(route, Route) or route.path != "/graphql":
            continue
        if isinstance(route.endpoint, GraphQLApp):
            return route.endpoint
    raise LookupError("the app has no /graphql route; build it with gateway.app.create_app")


def context_factory(graphql: GraphQLApp) -> RequestContextFactory:
    """`graphql.get_context` for export requests.

    The Accept header is left out: /graphql lets a browser asking for text/html load the
    IDE without a token, an exemption that must never reach a data export.
    """

    async def context(request: Request) -> GatewayContext:
        scope = dict(request.scope)
        scope["headers"] = [(k, v) for k, v in request.scope["headers"] if k != b"accept"]
        return await graphql.get_context(Request(scope, request.receive), Response())

    return context


def mount_views(
    app: Starlette,
    views: ViewCatalog,
    *,
    policy: Policy | None,
    options: ViewOptions | None = None,
    limits: Limits | None = None,
) -> None:
    """Check `views` against the app's schema and `limits` (ViewConfigError), add the routes.

    Pass the operation limits the app enforces (`LimitPolicy.default`), so a view whose page
    the limits would refuse fails at startup rather than on its first export.
    """
    graphql = graphql_endpoint(app)
    schema = graphql.schema
    assert isinstance(schema, strawberry.Schema)  # create_app's CrossdockSchema
    check_views(views, schema._schema, limits=limits)
    routes = view_routes(
        schema,
        context_factory(graphql),
        views,
        policy=policy,
        options=options or ViewOptions(),
    )
    app.router.routes.extend(routes)
