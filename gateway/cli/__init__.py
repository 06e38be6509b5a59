"""The `crossdock` command. Subcommands register themselves in `COMMANDS`:

def _add_mine(sub: Subparsers) -> None:
    p = sub.add_parser("mine", help="...")
    p.set_defaults(run=_run_mine)        # _run_mine(args) -> int (exit status)

COMMANDS.append(_add_mine)

    crossdock serve --config crossdock.toml     (HTTPS with [server] tls_cert_file/tls_key_file)
    crossdock serve --workers 4                 (or WEB_CONCURRENCY=4; needs [state], see
                                                 gateway.workers and docs/scale-out.md)
    crossdock token --role partner --partner-id DHL --ttl 1h [--scope X ...] [--config FILE]
    crossdock seed --scale 1 --data-dir var/demo [--force]
    crossdock demo [--data-dir var/demo] [--scale 1] [--reset] [--crm zoho|fxiaoke]
    crossdock sdl [--federation] [--config FILE]
    crossdock reconcile [--category C ...] [--json] [--fail-on error|warning|info]
                        [--fix C [--apply]] [--config FILE]
    crossdock sync status|retry|replay [...] [--config FILE | --inbox PATH]
    crossdock sync register [--config FILE] [--force]
    crossdock migrate --config crossdock.toml   (the shared state's PostgreSQL migrations)

Mistakes are one line on stderr and exit status 2, never a traceback: a configuration error
names the key and the fix, a port in use names the variable that moves it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from backends.serve import PortInUse
from gateway.access.policy import Policy
from gateway.auth.tokens import mint, parse_ttl
from gateway.cli.migrate import add_migrate
from gateway.cli.reconcile import add_reconcile
from gateway.cli.sdl import add_sdl
from gateway.cli.sync import add_sync
from gateway.server import uvicorn_options
from gateway.settings import Settings, SettingsError, load_settings
from gateway.settings.access import parse_auth
from gateway.wiring import Backends, assemble, build_backends, load_policy

# Backends & co. moved to gateway.wiring; still importable from here.
__all__ = [
    "Backends",
    "build_backends",
    "main",
    "uvicorn_options",
]

Subparsers = Any  # argparse._SubParsersAction, private in typeshed
DEFAULT_DATA_DIR = "var/demo"


def prepare_directories(settings: Settings) -> list[Path]:
    """Create the directories of the files the settings name (journal, audit log); returns
    those it created. One it cannot create is a SettingsError naming the key."""
    files = {
        "saga.journal_path": settings.saga.journal_path if settings.saga.enabled else None,
        "policy.audit_log": settings.policy.audit_log,
    }
    created = []
    for key, file in files.items():
        if not file:
            continue
        folder = Path(file).parent
        if folder.is_dir():
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(
                f"{key} {file}: cannot create its directory {folder} ({exc.strerror}); "
                "create it or point the setting elsewhere"
            ) from None
        created.append(folder)
    return created


def worker_count(given: int | None, env: Mapping[str, str]) -> int:
    """--workers, else WEB_CONCURRENCY (as platforms set it), else 1."""
    if given is not None:
        count, where = given, "--workers"
    else:
        raw = env.get("WEB_CONCURRENCY", "").strip() or "1"
        where = "WEB_CONCURRENCY"
        try:
            count = int(raw)
        except ValueError:
            raise SettingsError(f"WEB_CONCURRENCY must be a whole number, got {raw!r}") from None
    if count < 1:
        raise SettingsError(f"{where} must be at least 1, got {count}")
    return count


def _run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.observe.logs import log_config
    from gateway.runtime import freeze_startup, tune_gc
    from gateway.settings.state import workers_refused
    from gateway.workers import WorkerSpec, supervise

    tune_gc()
    settings = load_settings(args.config, os.environ)
    workers = worker_count(args.workers, os.environ)
    if workers > 1 and not settings.state.shared:
        raise workers_refused(workers)
    for folder in prepare_directories(settings):
        print(f"crossdock: created {folder}/ (named by the configuration)", file=sys.stderr)
    options = uvicorn_options(settings, host=args.host, port=args.port)
    if workers > 1:
        spec = WorkerSpec(args.config, args.host, args.port, graceful_s=args.graceful_timeout)
        return supervise(spec, workers)
    backends = build_backends(settings)
    app = assemble(settings, crm=backends.crm, scm=backends.scm, on_shutdown=[backends.aclose])
    freeze_startup()
    uvicorn.run(
        app,
        log_level="info",
        log_config=log_config(settings.logging),  # [logging] format: text or JSON lines
        workers=1,  # uvicorn would read WEB_CONCURRENCY (and refuse an app object with >1)
        timeout_graceful_shutdown=int(args.graceful_timeout),
        **options,
    )
    return 0


def _add_serve(sub: Subparsers) -> None:
    p = sub.add_parser("serve", help="run the gateway (settings from --config and CROSSDOCK_*)")
    p.add_argument("--config", metavar="FILE", help="TOML settings file (crossdock.example.toml)")
    p.add_argument("--host", help="override [server] host")
    p.add_argument("--port", type=int, help="override [server] port")
    p.add_argument(
        "--workers",
        type=int,
        help="worker processes (default: WEB_CONCURRENCY, else 1); more than one needs [state]",
    )
    p.add_argument(
        "--graceful-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="on SIGTERM, finish requests under way for up to S seconds (default 30)",
    )
    p.set_defaults(run=_run_serve)


class UselessToken(ValueError):
    """A token the policy would give nothing (or not what was meant); --force mints it."""


def token_problem(args: argparse.Namespace, policy: Policy) -> str | None:
    """Why the token asked for would be useless under `policy`, or None."""
    unknown = [r for r in args.role if r not in policy.roles]
    if unknown:
        known = ", ".join(sorted(policy.roles))
        return f"unknown role {unknown[0]!r}: the policy's roles are {known}"
    scopes = [s for s in args.scope if s not in policy.scopes]
    if scopes:
        known = ", ".join(sorted(policy.scopes))
        return f"unknown scope {scopes[0]!r}: the policy's scopes are {known}"
    if args.partner_id is None:
        for rule in policy.row_rules:
            role = next((r for r in args.role if r in rule.roles), None)
            if role is not None:
                return (
                    f"--role {role} needs --partner-id: its rows are filtered by "
                    f"{rule.type}.{rule.field} = the token's {rule.claim!r} claim, so without it "
                    "the token reads no rows"
                )
    if not args.role and not args.scope:
        return "no --role and no --scope: the token could read nothing but viewer"
    return None


def mint_token(args: argparse.Namespace, env: Mapping[str, str]) -> str:
    """The token `crossdock token` prints: the config's [auth], else the demo's settings.
    Refuses (UselessToken) a token the policy would give nothing, unless `args.force`."""
    if args.config:
        settings = load_settings(args.config, env)
        auth, policy = settings.auth, load_policy(settings)
    else:
        auth = parse_auth({}, env, demo=True)
        policy = Policy.load(env.get("CROSSDOCK_POLICY") or None)
    problem = None if args.force else token_problem(args, policy)
    if problem is not None:
        raise UselessToken(problem)
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
    try:
        print(mint_token(args, os.environ))
    except UselessToken as exc:
        print(f"crossdock token: {exc} (--force mints it anyway)", file=sys.stderr)
        return 2
    return 0


def _add_token(sub: Subparsers) -> None:
    p = sub.add_parser("token", help="mint a development HS256 token (prints only the token)")
    p.add_argument("--role", action="append", default=[], help="a policy role (repeatable)")
    p.add_argument("--scope", action="append", default=[], help="an extra scope (repeatable)")
    p.add_argument("--partner-id", help="the partner the caller acts for (partner role)")
    p.add_argument("--subject", help="the token subject (default: dev-<roles>)")
    p.add_argument("--ttl", default="1h", help="lifetime: 90s, 15m, 1h, 7d (default 1h)")
    p.add_argument("--config", metavar="FILE", help="use this file's [auth] (default: the demo's)")
    p.add_argument(
        "--force", action="store_true", help="mint even a token the policy would give nothing"
    )
    p.set_defaults(run=_run_token)


STORES = ("zoho.sqlite3", "erpnext.sqlite3")
DEMO_STATE = ("orders.sqlite", "audit.log")  # the demo's journal and audit log (gateway.cli.demo)


def wipe(data_dir: Path, names: Sequence[str]) -> None:
    """Delete SQLite files (and their WAL, shared memory and journal) and plain files."""
    for name in names:
        for suffix in ("", "-wal", "-shm", "-journal"):
            (data_dir / f"{name}{suffix}").unlink(missing_ok=True)


def _run_seed(args: argparse.Namespace) -> int:
    from backends.erpnext.store import ErpStore
    from backends.serve import seed_if_empty
    from backends.zoho.store import ZohoStore

    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    names = STORES
    if args.force:
        wipe(data_dir, names)
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
    from gateway.cli.demo import run_demo

    data_dir = Path(args.data_dir)
    if args.crm == "fxiaoke":  # its own stores and journal: its ids are not Zoho's
        data_dir = data_dir / "fxiaoke"
    if args.reset:
        wipe(data_dir, (*STORES, "fxiaoke.sqlite3", *DEMO_STATE))
        print(f"crossdock demo: wiped the demo data in {data_dir}; seeding it anew", flush=True)
    run_demo(data_dir=data_dir, scale=args.scale, crm=args.crm)
    return 0


def _add_demo(sub: Subparsers) -> None:
    p = sub.add_parser("demo", help="run both emulations and the gateway, print tokens")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help=f"default {DEFAULT_DATA_DIR}")
    p.add_argument("--scale", type=float, default=1.0, help="seed scale on first start")
    p.add_argument(
        "--reset", action="store_true", help="wipe the demo data (both systems, orders) and reseed"
    )
    p.add_argument(
        "--crm",
        choices=("zoho", "fxiaoke"),
        default="zoho",
        help="the CRM to emulate: zoho (port 8101) or fxiaoke (8103, CROSSDOCK_FXIAOKE_PORT)",
    )
    p.set_defaults(run=_run_demo)


COMMANDS: list[Callable[[Subparsers], None]] = [
    _add_serve,
    _add_token,
    _add_seed,
    _add_demo,
    add_sdl,
    add_reconcile,
    add_sync,
    add_migrate,
]


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
    except PortInUse as exc:
        print(f"crossdock {args.command}: {exc}", file=sys.stderr)
        return 2
    return status
