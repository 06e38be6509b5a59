"""The gateway twice: as assembled (batched), and the same app executed by plain graphql-core.

    standard_app = assemble(settings, crm=crm, scm=scm)
    run_by_graphql_core(standard_app)
    answer = await post(standard_app, backends, token, doc)

`gateway.wiring.assemble` offers no choice of executor, so the twin's strawberry view gets a
schema rebuilt with the same extensions and `batched=False`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from schema.build import CrossdockSchema, build_schema
from tests.schema.differential import Answer, Backends, detached_work, error_key
from tests.schema.querygen import Document
from tests.support.stack import GATEWAY_URL


def graphql_view(app: Starlette) -> Any:
    """The /graphql endpoint of an assembled app (strawberry's view, which owns the schema)."""
    return next(r.app for r in app.routes if isinstance(r, Route) and r.path == "/graphql")


def run_by_graphql_core(app: Starlette) -> None:
    """Give an assembled app the same schema and extensions, executed by plain graphql-core.

    gateway.wiring.assemble has no executor choice, so this swaps the view's schema.
    """
    view = graphql_view(app)
    batched: CrossdockSchema = view.schema
    view.schema = build_schema(
        extensions=list(batched.extensions), batched=False, subscription=batched.subscription
    )
    assert view.schema.execution_context_class is not batched.execution_context_class


async def post(app: Starlette, backends: Backends, token: str, doc: Document) -> Answer:
    backends.reset_counts()
    headers = {"Authorization": f"Bearer {token}", "x-crossdock-csrf": "1", "X-Request-ID": "r1"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        response = await http.post(
            "/graphql", json={"query": doc.text, "variables": doc.variables}, headers=headers
        )
    await detached_work()
    body = response.json()
    errors = [
        error_key(
            e["message"], e.get("path"), e.get("extensions", {}).get("code"), e.get("locations")
        )
        for e in body.get("errors") or ()
    ]
    data = json.dumps({"status": response.status_code, "data": body.get("data")})
    return Answer(data, sorted(errors), backends.counts())
