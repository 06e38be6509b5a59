"""`crossdock reconcile`: where the CRM and the ERP disagree (resolvers.reconcile).

    crossdock reconcile                              the running demo's emulations
    crossdock reconcile --category product_without_item --json
    crossdock reconcile --config crossdock.toml      a real deployment's backends
    crossdock reconcile --fail-on warning            exit 1 if a warning or worse remains
    crossdock reconcile --fix product_without_item           say what a repair would write
    crossdock reconcile --fix product_without_item --apply   write it

Prints one line per finding (severity, category, summary, fix), or with `--json` one JSON
document with every finding and the ids of the records involved. `--fix CATEGORY` repairs
that category's findings where Crossdock can (resolvers.reconcile.repairs): a dry run unless
`--apply`; the exit status then says whether findings remain after the repairs. Progress
goes to stderr on a terminal. Exit status: 0 when no finding at or above `--fail-on`
(default `error`) remains, 1 otherwise, 2 on a usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from backends.erpnext.app import ErpSettings
from backends.serve import Emulations, resolve_port
from backends.zoho.app import ZohoSettings
from gateway.settings import Settings, SettingsError, load_settings
from gateway.wiring import build_backends
from resolvers.errors import BackendError
from resolvers.reconcile import Finding, Severity, reconcile
from resolvers.reconcile.checks import CATEGORIES
from resolvers.reconcile.repairs import Repair, repair

RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


def _demo_settings(env: dict[str, str]) -> Settings:
    from gateway.cli.demo import demo_settings

    zoho = resolve_port("CROSSDOCK_ZOHO_PORT", None, env)
    erp = resolve_port("CROSSDOCK_ERP_PORT", None, env)
    running = Emulations(
        f"http://127.0.0.1:{zoho}", f"http://127.0.0.1:{erp}", ZohoSettings(), ErpSettings(), None
    )
    return demo_settings(running, Path(env.get("CROSSDOCK_DATA_DIR", "var/demo")), env)


async def _findings(
    settings: Settings, categories: list[str] | None, fix: str | None, apply: bool
) -> tuple[list[Finding], list[Repair]]:
    backends = build_backends(settings)
    crm, erp = backends.crm, backends.scm
    try:
        found = await reconcile(crm, erp, categories=categories)
        if fix is None:
            return found, []
        repairs = [await repair(f, crm, erp, apply=apply) for f in found if f.category == fix]
        if apply and repairs:  # what remains after the repairs
            found = await reconcile(crm, erp, categories=categories)
        return found, repairs
    finally:
        await backends.aclose()


def _line(finding: Finding) -> str:
    head = f"{finding.severity.value:7} {finding.category}: {finding.summary}"
    return f"{head}\n        fix: {finding.fix}"


def _run_reconcile(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    settings = load_settings(args.config, env) if args.config else _demo_settings(env)
    if sys.stderr.isatty():
        print("crossdock reconcile: reading both systems ...", file=sys.stderr, flush=True)
    try:
        found, repairs = asyncio.run(
            _findings(settings, args.category or None, args.fix, args.apply)
        )
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    except BackendError as exc:
        print(f"crossdock reconcile: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        document: dict[str, Any] = {"findings": [f.as_json() for f in found]}
        if args.fix:
            document["repairs"] = [r.as_json() for r in repairs]
        print(json.dumps(document, indent=2))
    else:
        for repaired in repairs:
            print(f"repair  {repaired.outcome}: {repaired.detail}")
        for finding in found:
            print(_line(finding))
        print(f"{len(found)} finding(s)")
    threshold = RANK[Severity(args.fail_on)]
    return 1 if any(RANK[f.severity] >= threshold for f in found) else 0


def add_reconcile(sub: Any) -> None:
    p = sub.add_parser("reconcile", help="list where the CRM and the ERP disagree")
    p.add_argument(
        "--category", action="append", choices=CATEGORIES, help="only this category (repeatable)"
    )
    p.add_argument("--json", action="store_true", help="every finding as JSON, with record ids")
    p.add_argument("--config", metavar="FILE", help="these backends (default: the running demo's)")
    p.add_argument(
        "--fail-on",
        choices=[s.value for s in Severity],
        default="error",
        help="exit 1 when a finding this severe or worse remains (default: error)",
    )
    p.add_argument(
        "--fix", choices=CATEGORIES, metavar="CATEGORY", help="repair this category's findings"
    )
    p.add_argument("--apply", action="store_true", help="with --fix: write (default: dry run)")
    p.set_defaults(run=_run_reconcile)
