"""`crossdock reconcile`: where the CRM and the ERP disagree, from the command line.

    crossdock reconcile                              # every category, against the running demo
    crossdock reconcile --category product_without_item --json   # one category, as JSON
    crossdock reconcile --category mirrors           # a whole group of categories
    crossdock reconcile --fail-on warning            # exit 1 if a warning or worse remains
    crossdock reconcile --fix product_without_item   # what the repairs would write (dry run)
    crossdock reconcile --fix mirrors --apply        # write them (journaled, audited)
    crossdock reconcile --config crossdock.toml      # a real deployment
    crossdock reconcile --crm fxiaoke                # the running `crossdock demo --crm fxiaoke`

`--category` and `--fix` take a finding category (a rule: `product_without_item`,
`stale_draft`, …) or a group of them (`counterparts`, `mirrors`, …). Without --config it
reads the running `crossdock demo` (its ports, credentials and data directory, as `crossdock
token` uses its secret). With shared state (`[state]` postgres_url and redis_url), the run
is stored in PostgreSQL where every gateway replica reads it. `--json` prints every finding
with the ids and names of its records. Progress goes to stderr: a bar redrawn on a terminal,
plain lines otherwise. Exit status: 0 when no finding at or above --fail-on (default error)
remains after the repairs, 1 when some do, 2 for a usage, configuration or backend problem.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import resource
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from backends.erpnext.app import ErpSettings
from backends.fxiaoke.app import FxiaokeSettings
from backends.fxiaoke.serve import FxEmulations, fxiaoke_port
from backends.serve import Emulations, resolve_port
from backends.zoho.app import ZohoSettings
from gateway.cli.demo import demo_settings
from gateway.reconciliation import Reconciliation, open_reconciliation
from gateway.settings import Settings, SettingsError, load_settings
from gateway.shared_tokens import share_crm_token
from gateway.wiring import build_backends
from resolvers.errors import BackendError
from resolvers.http import Attempt, Observe
from resolvers.reconcile import Finding, Severity
from resolvers.reconcile.engine import planned_stages
from resolvers.reconcile.repairs import RepairOutcome
from resolvers.reconcile.rules import CATEGORIES, GROUPS, select
from resolvers.saga import Journal, OrderProcessService, Sealer
from resolvers.saga.journal import JournalStore
from resolvers.state.layer import StateLayer, StateStartError, open_state

DEFAULT_DATA_DIR = "var/demo"
_CHOICES = [*CATEGORIES, *GROUPS]
_SEVERITIES = [s.value for s in Severity]


def add_reconcile(sub: Any) -> None:
    p = sub.add_parser("reconcile", help="find (and fix) where the CRM and the ERP disagree")
    p.add_argument(
        "--category",
        action="append",
        choices=_CHOICES,
        default=[],
        metavar="CATEGORY",
        help="only this finding category or group (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="every finding as JSON, with record ids")
    p.add_argument(
        "--fail-on",
        choices=_SEVERITIES,
        default="error",
        help="exit 1 when a finding this severe or worse remains (default: error)",
    )
    p.add_argument(
        "--fix",
        choices=_CHOICES,
        metavar="CATEGORY",
        help="repair this category's (or group's) findings where Crossdock can",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--apply", action="store_true", help="with --fix: write (default: dry run)")
    mode.add_argument("--dry-run", action="store_true", help="with --fix: plan, write nothing")
    p.add_argument("--actor", help="who repairs, for the journal (default cli:<user>)")
    p.add_argument("--config", metavar="FILE", help="these backends (default: the running demo's)")
    p.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help="the demo's data directory")
    p.add_argument(
        "--crm",
        choices=("zoho", "fxiaoke"),
        default="zoho",
        help="without --config: the demo's CRM (fxiaoke: `crossdock demo --crm fxiaoke`)",
    )
    p.set_defaults(run=run_reconcile)


def run_reconcile(args: argparse.Namespace) -> int:
    if (args.dry_run or args.apply) and not args.fix:
        print("crossdock reconcile: --dry-run and --apply go with --fix CATEGORY", file=sys.stderr)
        return 2
    settings = reconcile_settings(args, os.environ)
    try:
        return asyncio.run(_reconcile(args, settings))
    except BackendError as exc:
        where = "--config's backends" if args.config else "the demo (is `crossdock demo` running?)"
        print(f"crossdock reconcile: {exc.message} — check {where}", file=sys.stderr)
        return 2


def reconcile_settings(args: argparse.Namespace, env: Mapping[str, str]) -> Settings:
    """--config's settings, else the running demo's (its ports, credentials, data dir)."""
    if args.config:
        return load_settings(args.config, env)
    host = "127.0.0.1"
    if getattr(args, "crm", "zoho") == "fxiaoke":  # its demo keeps its data in <dir>/fxiaoke
        fx = FxEmulations(
            f"http://{host}:{fxiaoke_port(None, env)}",
            f"http://{host}:{resolve_port('CROSSDOCK_ERP_PORT', None, env)}",
            FxiaokeSettings(),
            ErpSettings(),
            None,
        )
        return demo_settings(fx, Path(args.data_dir) / "fxiaoke", env)
    zoho_port = resolve_port("CROSSDOCK_ZOHO_PORT", None, env)
    erp_port = resolve_port("CROSSDOCK_ERP_PORT", None, env)
    emulations = Emulations(
        f"http://{host}:{zoho_port}",
        f"http://{host}:{erp_port}",
        ZohoSettings(),
        ErpSettings(),
        None,
    )
    return demo_settings(emulations, Path(args.data_dir), env)


async def _reconcile(args: argparse.Namespace, settings: Settings) -> int:
    backends = build_backends(settings)
    calls: Counter[str] = Counter()
    backends.crm.requester.observe = _counter(calls, "crm")  # every HTTP try, retries too
    backends.scm.requester.observe = _counter(calls, "erp")
    state = _state(settings)
    if state is not None:
        share_crm_token(backends.crm, state)  # the gateway's token, not one more refresh
    journal = _journal(settings, state)
    service = None
    if journal is not None:
        saga = settings.saga
        locks = state.locks if state is not None else None
        service = OrderProcessService(backends.crm, backends.scm, journal, saga.rules, locks=locks)
    recon = open_reconciliation(
        settings, backends.crm, backends.scm, journal=journal, processes=service, state=state
    )
    try:
        if recon is None:
            print("crossdock reconcile: [reconcile] enabled = false", file=sys.stderr)
            return 2
        return await _run(args, recon, calls)
    finally:
        if recon is not None:
            await recon.close()
        if journal is not None:
            journal.close()
        if state is not None:
            await state.aclose()
        await backends.aclose()


def _state(settings: Settings) -> StateLayer | None:
    """With `[state]` shared, the gateway's PostgreSQL and Redis: the run is stored where every
    replica reads it, the order journal read from there, repairs locked across replicas."""
    if not settings.state.shared:
        return None
    try:
        return open_state(settings.state)
    except StateStartError as exc:
        raise SettingsError(str(exc)) from None


def _journal(settings: Settings, state: StateLayer | None) -> JournalStore | None:
    saga = settings.saga
    if not saga.enabled or not saga.journal_key:
        return None
    if state is not None:
        return state.open_journal(saga)
    if not Path(saga.journal_path).exists():
        return None
    return Journal(saga.journal_path, Sealer.from_base64(saga.journal_key))


def _counter(calls: Counter[str], system: str) -> Observe:
    def count(attempt: Attempt) -> None:
        calls[system] += 1

    return count


async def _run(args: argparse.Namespace, recon: Reconciliation, calls: Counter[str]) -> int:
    categories = args.category or None
    progress = Progress(sys.stderr, planned_stages(categories))
    found: list[Finding] = []
    record = await recon.service.run(
        categories, trigger="cli", progress=progress, on_finding=found.append
    )
    progress.done(len(found))
    outcomes: list[RepairOutcome] = []
    if args.fix:
        actor = args.actor or f"cli:{getpass.getuser()}"
        dry_run = not args.apply
        fixing = select([args.fix])
        for finding in (f for f in found if fixing.wants(f)):
            outcomes.append(await recon.service.repair(finding.id, dry_run=dry_run, actor=actor))
    fixed = {o.finding_id for o in outcomes if o.status in ("applied", "gone")}
    floor = Severity(args.fail_on)
    remaining = [f for f in found if f.id not in fixed and f.severity.at_least(floor)]
    totals = _totals(record.seconds or 0.0, calls, record.id, recon.store.path)
    totals["read"] = record.counts.get("read", {})
    if args.json:
        json.dump(_as_json(found, outcomes, totals), sys.stdout, indent=2)
        print()
    else:
        _print(found, outcomes, totals, sys.stdout)
    return 1 if remaining else 0


class Progress:
    """On a terminal, a bar over the run's stages with the records read, redrawn in place;
    otherwise a plain line per page. Both on stderr."""

    WIDTH = 21

    def __init__(self, stream: TextIO, stages: Sequence[str]) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.stages = list(stages)

    def __call__(self, stage: str, done: int) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + self.bar(stage, done))
        else:
            self.stream.write(f"reconcile: {stage} {done}\n")
        self.stream.flush()

    def bar(self, stage: str, done: int) -> str:
        """`[#######--------------] 3/7 crm products 51`: stages before this one are done."""
        index = self.stages.index(stage) if stage in self.stages else 0
        total = max(len(self.stages), 1)
        filled = self.WIDTH * index // total
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        return f"[{bar}] {index + 1}/{total} {stage} {done}"

    def done(self, findings: int) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(f"reconcile: done, {findings} finding(s)\n")
        self.stream.flush()


def _totals(seconds: float, calls: Counter[str], run_id: int, store: str) -> dict[str, Any]:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "run": run_id,
        "store": store,
        "seconds": seconds,
        "backend_calls": {"total": sum(calls.values()), **dict(calls)},
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    """A finding as `--json` prints it: the fields of `Query.reconciliation` (category,
    severity, summary, fix, the records' ids per system, the evidence) and the rest."""
    fix = finding.fix
    return {
        "id": finding.id,
        "category": finding.rule.name,
        "severity": finding.severity.value,
        "summary": finding.summary,
        "fix": fix.text,
        "crm": finding.sides("crm"),
        "erp": finding.sides("erp"),
        "values": finding.values,
        "group": finding.category.value,
        "rule": finding.rule.id,
        "records": [asdict(r) for r in finding.records],
        "differences": [asdict(d) for d in finding.differences],
        "fixable": fix.fixable,
        "repair": fix.repair,
        "targets": list(fix.targets),
        "who": fix.who,
        "why": fix.why,
    }


def _as_json(
    found: Sequence[Finding], outcomes: Sequence[RepairOutcome], totals: dict[str, Any]
) -> dict[str, Any]:
    counts = Counter(f.severity.value for f in found)
    return {
        **totals,
        "counts": {s: counts.get(s, 0) for s in _SEVERITIES},
        "findings": [finding_json(f) for f in found],
        "repairs": [
            {
                "finding": o.finding_id,
                "status": o.status,
                "message": o.message,
                "actions": [asdict(a) for a in o.actions],
                "journal": o.journal_id,
            }
            for o in outcomes
        ],
    }


def _print(
    found: Sequence[Finding],
    outcomes: Sequence[RepairOutcome],
    totals: dict[str, Any],
    out: TextIO,
) -> None:
    for finding in found:
        out.write(f"{finding.severity.value.upper():8}{finding.rule.name}  {finding.id}\n")
        out.write(f"        {finding.summary}\n")
        records = " · ".join(
            f"{r.system} {r.kind} {r.id}" + (f" ({r.label})" if r.label else "")
            for r in finding.records
        )
        out.write(f"        records: {records}\n")
        fix = finding.fix
        if fix.fixable:
            out.write(f"        fix ({fix.repair}): {fix.action}\n")
        else:
            out.write(f"        fix: {fix.action} Who: {fix.who}. Why not Crossdock: {fix.why}.\n")
    for outcome in outcomes:
        out.write(f"{outcome.status:12}{outcome.finding_id}  {outcome.message}\n")
        for action in outcome.actions:
            change = ", ".join(
                f"{k} {action.before.get(k)!s} → {action.after.get(k)!s}" for k in action.after
            )
            target = f"{action.target.kind} {action.target.id}"
            out.write(f"            {action.operation} {target}: {change}\n")
    counts = Counter(f.severity.value for f in found)
    calls = totals["backend_calls"]
    out.write(
        f"{len(found)} finding(s): {counts['error']} error, {counts['warning']} warning, "
        f"{counts['info']} info; {totals['seconds']:.1f} s, {calls['total']} backend calls "
        f"(crm {calls.get('crm', 0)}, erp {calls.get('erp', 0)}), peak RSS "
        f"{totals['peak_rss_mb']} MB; run {totals['run']} stored in {totals['store']}\n"
    )
