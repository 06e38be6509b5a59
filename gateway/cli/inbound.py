"""`crossdock sync register`: register the Zoho channel and the ERPNext webhooks now.

    crossdock sync register --config crossdock.toml [--force]

What the gateway also does at startup and on its schedule (gateway.inbound.registration),
by hand: after a secret rotation (`--force` rewrites what cannot be compared), or to check
the backends accept the registration before going live. Prints one line per channel or
webhook (created, updated, unchanged, failed) and exits 1 when one failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from gateway.inbound.registration import Report
from gateway.inbound.service import registrar_for
from gateway.settings import Settings, SettingsError, load_settings
from gateway.wiring import build_backends

Subparsers = Any  # argparse._SubParsersAction, private in typeshed


async def register(settings: Settings, *, force: bool) -> Report:
    """One registration pass with the connectors the settings describe."""
    inbound = settings.inbound
    if not (inbound.enabled and inbound.notifications):
        raise SettingsError(
            "inbound notifications are off: set [inbound] enabled = true (and notifications = "
            "true, public_url and the secrets) to register"
        )
    backends = build_backends(settings)
    try:
        registrar = registrar_for(inbound, backends.crm, backends.scm)
        if registrar is None:
            raise SettingsError("the configured backends cannot be registered with")
        return await registrar.ensure(force=force)
    finally:
        await backends.aclose()


def _run_register(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, os.environ)
    report = asyncio.run(register(settings, force=args.force))
    for line in report.lines():
        print(line)
    if not report.ok:
        print("crossdock sync register: some registrations failed (see above)", file=sys.stderr)
        return 1
    return 0


def add_register(sync: Subparsers) -> None:
    """`register` under `crossdock sync`."""
    p = sync.add_parser("register", help="register the Zoho channel and ERPNext webhooks now")
    p.add_argument("--config", metavar="FILE", help="TOML settings file (crossdock.example.toml)")
    p.add_argument("--force", action="store_true", help="rewrite even what looks unchanged")
    p.set_defaults(run=_run_register)
