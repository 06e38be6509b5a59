"""`crossdock sync`: the sync inbox from the command line (resolvers.sync.inbox).

    crossdock sync status [--json]          lag, pending, retrying, dead per source; failures
    crossdock sync retry ID                 try one failed change again now
    crossdock sync retry --all              every failed (retrying or dead) change
    crossdock sync replay --since 1h [--key crm:account:4150868000000002175]

The inbox is the file `[sync] inbox_path` names (`--config FILE`, CROSSDOCK_SYNC_INBOX_PATH,
default var/sync.sqlite) or `--inbox PATH`; the gateway need not run. A change put back is
applied by the gateway's processor (`[sync] enabled = true`) within `[sync] idle_s`. `replay`
applies changes done since a time again: the rules write only what differs now. Exit status:
`status` 1 when a change is dead, else 0; 2 on a usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.auth.tokens import parse_ttl
from gateway.cli.inbound import add_register
from gateway.settings import SettingsError
from gateway.settings.sync import SyncSettings, parse_sync
from resolvers.sync.inbox import InboxStatus, SqliteInbox


def _settings(args: argparse.Namespace) -> SyncSettings:
    table: dict[str, Any] = {}
    if args.config:
        try:
            document = tomllib.loads(Path(args.config).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"config file {args.config}: {exc}") from None
        table = document.get("sync", {})
    return parse_sync(table, dict(os.environ))


def _inbox(args: argparse.Namespace) -> SqliteInbox:
    path = Path(args.inbox or _settings(args).inbox_path)
    if not path.is_file():
        raise SettingsError(
            f"no sync inbox at {path} (the gateway creates it when [sync] enabled = true; "
            "give --inbox PATH or --config FILE)"
        )
    return SqliteInbox(path)


def _since(text: str) -> datetime:
    try:
        return datetime.now(UTC) - parse_ttl(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SettingsError(
            f"--since {text!r} is neither a duration (90s, 15m, 1h, 7d) nor an ISO time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _as_json(status: InboxStatus) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    return {
        "sources": [{k: plain(v) for k, v in _fields(s).items()} for s in status.sources],
        "failed": [{k: plain(v) for k, v in _fields(f).items()} for f in status.failed],
        "watermarks": status.watermarks,
    }


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def _print(status: InboxStatus) -> None:
    for s in status.sources:
        print(
            f"{s.system}: {s.pending} pending, {s.retrying} retrying, {s.dead} dead, "
            f"{s.done} done; lag {s.lag_s:.1f} s; last received "
            f"{s.last_received_at.isoformat() if s.last_received_at else '-'}"
        )
    for mark, value in status.watermarks.items():
        print(f"watermark {mark}: {value}")
    for f in status.failed:
        when = f" (next try {f.next_at.isoformat()})" if f.next_at else ""
        print(f"#{f.id} {f.state} after {f.attempts} attempt(s){when} {f.key}\n    {f.reason}")


def _run_status(args: argparse.Namespace) -> int:
    inbox = _inbox(args)
    try:
        status = asyncio.run(inbox.status(failed_limit=args.limit))
    finally:
        inbox.close()
    if args.json:
        print(json.dumps(_as_json(status), indent=2))
    else:
        _print(status)
    return 1 if any(s.dead for s in status.sources) else 0


def _run_retry(args: argparse.Namespace) -> int:
    if (args.id is None) == (not args.all):
        raise SettingsError("crossdock sync retry needs a change id or --all (not both)")
    inbox = _inbox(args)
    try:
        count = asyncio.run(inbox.retry(args.id))
    finally:
        inbox.close()
    print(f"{count} change(s) put back to be applied")
    return 0 if count or args.all else 1


def _run_replay(args: argparse.Namespace) -> int:
    since = _since(args.since)
    inbox = _inbox(args)
    try:
        count = asyncio.run(inbox.replay(since=since, key=args.key))
    finally:
        inbox.close()
    print(f"{count} change(s) since {since.isoformat()} put back to be applied again")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="read [sync] inbox_path from this file")
    p.add_argument("--inbox", metavar="PATH", help="the inbox file (overrides the settings)")


def add_inbox_commands(sync: Any) -> None:
    """`status`, `retry` and `replay` under `crossdock sync` (its subcommand parsers)."""
    status = sync.add_parser("status", help="lag, pending and failed changes per source")
    status.add_argument("--json", action="store_true", help="one JSON document")
    status.add_argument("--limit", type=int, default=50, help="failures listed (default 50)")
    status.set_defaults(run=_run_status)
    retry = sync.add_parser("retry", help="apply failed changes again now")
    retry.add_argument("id", nargs="?", type=int, help="the failed change's id (see status)")
    retry.add_argument("--all", action="store_true", help="every failed change")
    retry.set_defaults(run=_run_retry)
    replay = sync.add_parser("replay", help="apply changes done since a time again")
    replay.add_argument("--since", required=True, help="a duration back (1h, 7d) or ISO time")
    replay.add_argument("--key", help="only this record, e.g. crm:account:4150868000000002175")
    replay.set_defaults(run=_run_replay)
    for command in (status, retry, replay):
        _common(command)


def add_sync(sub: Any) -> None:
    """`crossdock sync ...`; other subcommands (e.g. `register`) may hang below it too."""
    p = sub.add_parser("sync", help="change sync between the CRM and the ERP")
    sync = p.add_subparsers(dest="sync_command", required=True, metavar="SUBCOMMAND")
    add_inbox_commands(sync)
    add_register(sync)
