"""The `crossdock` command. Subcommands register themselves in `COMMANDS`:

def _add_mine(sub: Subparsers) -> None:
    p = sub.add_parser("mine", help="...")
    p.set_defaults(run=_run_mine)        # _run_mine(args) -> int (exit status)

COMMANDS.append(_add_mine)

    crossdock serve --config crossdock.toml     (HTTPS with [server] tls_cert_file/tls_key_file)
    crossdock token --role partner --partner-id DHL --ttl 1h [--scope X ...] [--config FILE]
    crossdock seed --scale 1 --data-dir var/demo [--force]
    crossdock demo [--data-dir var/demo] [--scale 1]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway.server import uvicorn_options
from gateway.settings import SettingsError, load_settings
from gateway.settings_access import parse_auth
from gateway.tokens import mint, parse_ttl
from gateway.wiring import Backends, assemble, build_backends, erpnext_options, zoho_options

# Backends & co. moved to gateway.wiring; still importable from here.
__all__ = [
    "Backends",
    "build_backends",
    "erpnext_options",
    "main",
    "uvicorn_options",
    "zoho_options",
]

Subparsers = Any  # argparse._SubParsersAction, private in typeshed
DEFAULT_DATA_DIR = "var/demo"


def _run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.runtime import freeze_startup, tune_gc

    tune_gc()
    settings = load_settings(args.config, os.environ)
    options = uvicorn_options(settings, host=args.host, port=args.port)
    backends = build_backends(settings)
    app = assemble(settings, crm=backends.crm, scm=backends.scm, on_shutdown=[backends.aclose])
    freeze_startup()
    uvicorn.run(app, log_level="info", **options)
    return 0


def _add_serve(sub: Subparsers) -> None:
    p = sub.add_parser("serve", help="run the gateway (settings from --config and CROSSDOCK_*)")
    p.add_argument("--config", metavar="FILE", help="TOML settings file (crossdock.example.toml)")
    p.add_argument("--host", help="override [server] host")
    p.add_argument("--port", type=int, help="override [server] port")
    p.set_defaults(run=_run_serve)


def mint_token(args: argparse.Namespace, env: Mapping[str, str]) -> str:
    """The token `crossdock token` prints: the config's [auth], else the demo's settings."""
    auth = load_settings(args.config, env).auth if args.config else parse_auth({}, env, demo=True)
    if auth.hs256_secret is None or "HS256" not in auth.algorithms:
        raise SettingsError("auth.algorithms does not allow HS256: crossdock token mints HS256")
    try:
        ttl = parse_ttl(args.ttl)
    except ValueError as exc:
        raise SettingsError(f"--ttl: {exc}") from None
    if ttl.total_seconds() > auth.max_token_lifetime_s:
        raise SettingsError(
            f"--ttl {args.ttl} exceeds auth.max_token_lifetime_s ({auth.max_token_lifetime_s} s), "
            "so the gateway would refuse the token; choose a shorter --ttl"
        )
    return mint(
        auth.hs256_secret,
        subject=args.subject or f"dev-{'-'.join(args.role) or 'user'}",
        roles=args.role,
        scopes=args.scope,
        partner_id=args.partner_id,
        ttl=ttl,
        issuer=auth.issuer,
        audience=auth.audience,
    )


def _run_token(args: argparse.Namespace) -> int:
    print(mint_token(args, os.environ))
    return 0


def _add_token(sub: Subparsers) -> None:
    p = sub.add_parser("token", help="mint a development HS256 token (prints only the token)")
    p.add_argument("--role", action="append", default=[], help="a policy role (repeatable)")
    p.add_argument("--scope", action="append", default=[], help="an extra scope (repeatable)")
    p.add_argument("--partner-id", help="the partner the caller acts for (partner role)")
    p.add_argument("--subject", help="the token subject (default: dev-<roles>)")
    p.add_argument("--ttl", default="1h", help="lifetime: 90s, 15m, 1h, 7d (default 1h)")
    p.add_argument("--config", metavar="FILE", help="use this file's [auth] (default: the demo's)")
    p.set_defaults(run=_run_token)


def _run_seed(args: argparse.Namespace) -> int:
    from backends.erpnext.store import ErpStore
    from backends.serve import seed_if_empty
    from backends.zoho.store import ZohoStore

    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    names = ("zoho.sqlite3", "erpnext.sqlite3")
    if args.force:
        for name in names:
            for suffix in ("", "-wal", "-shm", "-journal"):
                (data_dir / f"{name}{suffix}").unlink(missing_ok=True)
    zoho, erp = ZohoStore(data_dir / names[0]), ErpStore(data_dir / names[1])
    try:
        report = seed_if_empty(zoho, erp, scale=args.scale)
    except (ValueError, RuntimeError) as exc:
        print(f"crossdock seed: {exc}", file=sys.stderr)
        return 2
    finally:
        zoho.close()
        erp.close()
    if report is None:
        print(f"{data_dir} already holds data; pass --force to reseed")
    else:
        print(f"seeded {data_dir} in {report.seconds:.1f}s: {report.counts}")
    return 0


def _add_seed(sub: Subparsers) -> None:
    p = sub.add_parser("seed", help="seed the emulations' data (only when empty, or --force)")
    p.add_argument("--scale", type=float, default=1.0, help="1 = ~200 accounts, 2000 orders")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help=f"default {DEFAULT_DATA_DIR}")
    p.add_argument("--force", action="store_true", help="delete existing data and reseed")
    p.set_defaults(run=_run_seed)


def _run_demo(args: argparse.Namespace) -> int:
    from gateway.demo import run_demo

    run_demo(data_dir=Path(args.data_dir), scale=args.scale)
    return 0


def _add_demo(sub: Subparsers) -> None:
    p = sub.add_parser("demo", help="run both emulations and the gateway, print tokens")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help=f"default {DEFAULT_DATA_DIR}")
    p.add_argument("--scale", type=float, default=1.0, help="seed scale on first start")
    p.set_defaults(run=_run_demo)


COMMANDS: list[Callable[[Subparsers], None]] = [_add_serve, _add_token, _add_seed, _add_demo]


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
