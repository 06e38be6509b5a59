"""The browser console at `/console`: one page, one JS module, one stylesheet, all in the package.

    mount_console(app)                       # [console] enabled = true (gateway.wiring)
    offer_demo_tokens(app, settings, tokens) # `crossdock demo` only: the sign-in role picker

The console adds no access of its own: the page and its assets are public (they hold no data),
and everything it shows comes from `/graphql` and `/views` with the token the user pastes (kept
in the tab's sessionStorage, never in a URL). The script builds its queries from the schema the
token's role may see (per-role introspection), so a field the role may not read is never asked
for and nothing denied reaches the screen. Its Content-Security-Policy allows scripts, styles
and connections to its own origin only, with no inline script or style.

The demo's role picker reads `/console/demo-tokens`, which answers only when the demo handed
its tokens in (`offer_demo_tokens`) and the gateway verifies tokens with the published demo
secret; everywhere else it is 404, so no token is ever served by a real deployment.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.auth.tokens import is_demo_secret
from gateway.settings import Settings
from gateway.static_assets import Asset, asset_response, load_assets, url_name_of

ASSETS_DIR = Path(__file__).parent.parent / "static" / "console"
PAGE_PATH = "/console"
ASSET_PREFIX = "/console/assets/"
DEMO_TOKENS_PATH = "/console/demo-tokens"
SCRIPT = "console.js"
STYLE = "console.css"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # the page's empty icon (data:,): no /favicon.ico request
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
DEMO_TOKENS_KEY = "console_demo_tokens"


@functools.cache
def assets() -> dict[str, Asset]:
    """The console's script and stylesheet by URL name, read once per process."""
    return load_assets(ASSETS_DIR, (SCRIPT, STYLE))


def asset_url(name: str) -> str:
    """The hashed URL of the shipped file `name`."""
    return ASSET_PREFIX + url_name_of(assets(), name)


@functools.cache
def page_html() -> str:
    return PAGE_TEMPLATE.format(
        style=html.escape(asset_url(STYLE)), script=html.escape(asset_url(SCRIPT))
    )


async def page_endpoint(request: Request) -> Response:
    headers = {"Cache-Control": "no-cache", **SECURITY_HEADERS}
    return HTMLResponse(page_html(), headers=headers)


async def asset_endpoint(request: Request) -> Response:
    """A file by its hashed name (gzip when accepted), else 404."""
    return asset_response(assets(), request)


async def demo_tokens_endpoint(request: Request) -> Response:
    """The demo's role tokens, or 404 when this gateway is not the demo."""
    tokens: list[dict[str, str | None]] | None = getattr(request.app.state, DEMO_TOKENS_KEY, None)
    if not tokens:
        return PlainTextResponse("Not Found", status_code=404)
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    return JSONResponse({"roles": tokens}, headers=headers)


def console_routes() -> list[Route]:
    return [
        Route(PAGE_PATH, page_endpoint, methods=["GET"]),
        Route(ASSET_PREFIX + "{name}", asset_endpoint, methods=["GET"]),
        Route(DEMO_TOKENS_PATH, demo_tokens_endpoint, methods=["GET"]),
    ]


def mount_console(app: Starlette) -> None:
    """Serve /console and its assets on `app` (`[console] enabled = true`)."""
    assets()  # a missing file is a startup error, not a 500 on first use
    app.router.routes.extend(console_routes())


def offer_demo_tokens(
    app: Starlette,
    settings: Settings,
    tokens: Mapping[str, str],
    partners: Mapping[str, str | None] | None = None,
) -> bool:
    """Let the console's role picker sign in with the demo's `tokens` (role → token).

    Only when the gateway verifies with the published demo secret (which only `crossdock demo`
    may use); otherwise nothing is offered and False is returned."""
    if not settings.console.enabled or not is_demo_secret(settings.auth.hs256_secret):
        return False
    given = partners or {}
    offered = [
        {"role": role, "partnerId": given.get(role), "token": token}
        for role, token in tokens.items()
    ]
    setattr(app.state, DEMO_TOKENS_KEY, offered)
    return True


PAGE_TEMPLATE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>Crossdock console</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{style}">
    <script type="module" src="{script}"></script>
  </head>
  <body>
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <span class="brand">Crossdock</span>
      <nav id="nav" aria-label="Pages"></nav>
      <span id="who" class="who" aria-live="polite"></span>
    </header>
    <main id="main" tabindex="-1">
      <p class="empty">Loading the console…</p>
      <noscript>The console needs JavaScript; any GraphQL client can POST to /graphql.</noscript>
    </main>
  </body>
</html>
"""
