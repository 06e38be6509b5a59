"""GraphiQL served from the package: the page and its assets, no request leaves the machine.

    GET /graphql (Accept: text/html)  → page_response(): the page, `Cache-Control: no-cache`
    GET /graphiql/<stem>.<hash>.<ext> → asset_endpoint(): an asset, cached for a year (immutable)

The assets live in `gateway/static/graphiql/`: GraphiQL, React and ReactDOM as published on npm
(pinned and vendored by `make graphiql-assets`, checked against `manifest.json`), and the page's
own script and style (`crossdock-graphiql.js`, `.css`). Each is addressed by its content hash,
so a new build gets new URLs and a browser may keep an old one forever. The page's
Content-Security-Policy allows scripts, styles and connections to its own origin only.

The page's script puts a token field above GraphiQL: the schema is fetched only once there is a
token (in the field or as `Authorization` in GraphiQL's headers pane), and again whenever it
changes, so the docs pane shows the schema of the token's role and the first screen makes no
request that could fail with UNAUTHENTICATED.
"""

from __future__ import annotations

import functools
import html
import json
from pathlib import Path

from graphql import parse, print_ast
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gateway.examples import ORDER_PAGE, ORDER_PAGE_VARIABLES
from gateway.static_assets import Asset, asset_response, load_assets, url_name_of

ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
ASSET_PREFIX = "/graphiql/"
PAGE_SCRIPTS = (
    "react-18.3.1.production.min.js",
    "react-dom-18.3.1.production.min.js",
    "graphiql-3.9.0.min.js",
    "crossdock-graphiql.js",
)
PAGE_STYLES = ("graphiql-3.9.0.min.css", "crossdock-graphiql.css")
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        # GraphiQL's editors and React set style attributes; its fonts and icons are data: URLs
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@functools.cache
def assets() -> dict[str, Asset]:
    """The page's assets by URL name, read once per process on first use."""
    return load_assets(ASSETS_DIR, (*PAGE_SCRIPTS, *PAGE_STYLES))


def asset_url(name: str) -> str:
    """The hashed URL of the asset committed as `name`."""
    return ASSET_PREFIX + url_name_of(assets(), name)


async def asset_endpoint(request: Request) -> Response:
    """An asset by its hashed name (gzip when accepted), or 404 for any other name."""
    return asset_response(assets(), request)


WELCOME = """\
# Crossdock: one graph over the CRM and the ERP.
#
# 1. Paste a bearer token in the field above.
#    `make demo` prints one per role;
#    `crossdock token --role sales` mints one.
#    Its role's schema then fills the docs
#    pane (book icon) and autocomplete.
# 2. Run the order page below
#    (Ctrl-Enter or the run button).
#
"""


@functools.cache
def page_html() -> str:
    """The GraphiQL page: hashed assets, and the editors' first contents as inert JSON."""
    query = WELCOME + print_ast(parse(ORDER_PAGE))
    variables = json.dumps(ORDER_PAGE_VARIABLES, indent=2)
    config = json.dumps({"query": query, "variables": variables})
    config = config.replace("<", "\\u003c")  # cannot close the <script> element it sits in
    styles = "\n".join(
        f'    <link rel="stylesheet" href="{html.escape(asset_url(n))}">' for n in PAGE_STYLES
    )
    scripts = "\n".join(
        f'    <script src="{html.escape(asset_url(n))}"></script>' for n in PAGE_SCRIPTS
    )
    return PAGE_TEMPLATE.format(styles=styles, scripts=scripts, config=config)


def page_response() -> HTMLResponse:
    return HTMLResponse(page_html(), headers=PAGE_HEADERS)


PAGE_TEMPLATE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Crossdock GraphiQL</title>
    <link rel="icon" href="data:,">
{styles}
  </head>
  <body>
    <div id="crossdock-graphiql">Loading GraphiQL…</div>
    <noscript>GraphiQL needs JavaScript; any GraphQL client can POST to this URL.</noscript>
    <script type="application/json" id="crossdock-config">{config}</script>
{scripts}
  </body>
</html>
"""
