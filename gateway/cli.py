"""The `crossdock` command. Subcommands register themselves in `COMMANDS`:

def _add_mine(sub: Subparsers) -> None:
    p = sub.add_parser("mine", help="...")
    p.set_defaults(run=_run_mine)        # _run_mine(args) -> int (exit status)

COMMANDS.append(_add_mine)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.app import create_app
from gateway.settings import Settings, SettingsError, load_settings
from resolvers.erpnext import ERPNext, ERPNextOptions
from resolvers.zoho import ZohoCRM, ZohoOptions

Subparsers = Any  # argparse._SubParsersAction, private in typeshed


@dataclass(frozen=True)
class Backends:
    """The two connectors built from settings, and the HTTP clients to close on shutdown."""

    crm: ZohoCRM
    scm: ERPNext
    clients: tuple[httpx.AsyncClient, ...]

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


def build_backends(settings: Settings) -> Backends:
    """Connectors over pooled httpx clients sized by `max_connections`."""
    crm_client = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=settings.crm.max_connections),
        timeout=settings.crm.timeouts.to_httpx(),
    )
    scm_client = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=settings.scm.max_connections),
        timeout=settings.scm.timeouts.to_httpx(),
    )
    crm = ZohoCRM(crm_client, zoho_options(settings))
    scm = ERPNext(scm_client, erpnext_options(settings))
    return Backends(crm=crm, scm=scm, clients=(crm_client, scm_client))


def zoho_options(settings: Settings) -> ZohoOptions:
    c = settings.crm
    return ZohoOptions(
        accounts_url=c.accounts_url,
        client_id=c.client_id,
        client_secret=c.client_secret,
        refresh_token=c.refresh_token,
        api_domain=c.base_url,
        timeouts=c.timeouts,
        retry=c.retry,
        order_statuses=c.order_statuses,
        default_currency=c.default_currency,
    )


def erpnext_options(settings: Settings) -> ERPNextOptions:
    s = settings.scm
    return ERPNextOptions(
        base_url=s.base_url,
        api_key=s.api_key,
        api_secret=s.api_secret,
        site_tz=s.site_tz,
        company_currency=s.currency,
        company=s.company,
        page_size=s.page_size,
        timeouts=s.timeouts,
        retry=s.retry,
        shipment_statuses=s.shipment_statuses,
        tracking_statuses=s.tracking_statuses,
    )


def _run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = load_settings(args.config, os.environ)
    backends = build_backends(settings)
    app = create_app(settings, crm=backends.crm, scm=backends.scm, on_shutdown=[backends.aclose])
    host = args.host or settings.server.host
    port = args.port or settings.server.port
    uvicorn.run(app, host=host, port=port, log_level="info")
    return 0


def _add_serve(sub: Subparsers) -> None:
    p = sub.add_parser("serve", help="run the gateway (settings from --config and CROSSDOCK_*)")
    p.add_argument("--config", metavar="FILE", help="TOML settings file (crossdock.example.toml)")
    p.add_argument("--host", help="override [server] host")
    p.add_argument("--port", type=int, help="override [server] port")
    p.set_defaults(run=_run_serve)


COMMANDS: list[Callable[[Subparsers], None]] = [_add_serve]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="crossdock", description="One graph over CRM and ERP.")
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except SettingsError as exc:
        print(f"crossdock: configuration error: {exc}", file=sys.stderr)
        return 2
    return status
