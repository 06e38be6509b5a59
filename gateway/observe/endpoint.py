"""`GET /metrics`: the Prometheus text format, for loopback and allowlisted scrapers only.

Metrics name the operations clients run and the backends' routes: not secrets, but not for
the internet either. A scraper from any other address gets 404, as if the route did not
exist; `[metrics] allow` lists the addresses (or networks, `10.0.0.0/8`) that may scrape.
"""

from __future__ import annotations

from ipaddress import ip_address, ip_network

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from gateway.observe.metrics import Metrics


def allowed(address: str | None, allow: tuple[str, ...]) -> bool:
    """Whether `address` is loopback or within one of `allow` (addresses or networks)."""
    if address is None:
        return False
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    if parsed.is_loopback:
        return True
    return any(parsed in ip_network(entry, strict=False) for entry in allow)


def metrics_route(metrics: Metrics, allow: tuple[str, ...]) -> Route:
    async def scrape(request: Request) -> Response:
        client = request.client.host if request.client else None
        if not allowed(client, allow):
            return PlainTextResponse("Not Found", status_code=404)
        await metrics.refresh()
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", scrape, methods=["GET"])
