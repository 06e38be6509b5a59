"""What each sync rule did over a window, read from the inbox store.

    insights = await sync_insights(inbox, rules, since=..., until=...)

The inbox keeps every change it received, with its state (pending, claimed, retry, dead,
done), its attempts, its last note or error, and when it arrived and finished. For the
changes received in [since, until), each enabled rule is given the changes it applies to
(`rule.applies(change)`, the processor's own choice) and, per rule:

- `applied`: done with the rules run; their lag is received → finished, median and p95;
- `skipped`: done without running the rules (an older version than the one applied, or a
  sync rule's own write coming back);
- `retried`: applied after more than one attempt;
- `waiting`, `failing` (waiting for a retry) and `dead` (parked after the last attempt),
  with the failures by error code (the code the error's message starts with).

A change that fails is counted against every rule that applies to it: the inbox keeps the
change's error, not which of its rules raised (most entities have one rule). The failures
are the current ones: a change that failed then was applied counts as applied and retried.
Only names and counts: no record id, value or error message leaves here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from resolvers.saga.insights import Durations

from .inbox import Execute, SqlInbox, _item
from .rules.base import Rule

MAX_CHANGES = 200_000  # rows read for one window at most (the newest are left out past it)
SKIPPED = ("version ", "a sync rule's own write")  # the processor's notes for those
_OPEN = ("pending", "claimed")


@dataclass(frozen=True, slots=True)
class RuleInsight:
    rule: str
    applied: int
    skipped: int
    retried: int
    waiting: int
    failing: int
    dead: int
    failures: tuple[tuple[str, int], ...]  # error code -> count, most frequent first
    lag: Durations  # received -> applied, of the changes applied


@dataclass(frozen=True, slots=True)
class SyncInsights:
    since: datetime
    until: datetime
    changes: int
    by_state: tuple[tuple[str, int], ...]
    rules: tuple[RuleInsight, ...]  # every enabled rule, in the processor's order
    truncated: bool  # more than MAX_CHANGES changes in the window


@dataclass
class _Tally:
    counts: Counter[str]
    failures: Counter[str]
    lags: list[float]


async def sync_insights(
    inbox: SqlInbox, rules: Sequence[Rule], *, since: datetime, until: datetime
) -> SyncInsights:
    """Insights over the changes received in [since, until)."""

    def read(execute: Execute) -> list[Any]:
        return execute(
            "SELECT * FROM sync_inbox WHERE received_at >= ? AND received_at < ?"
            " ORDER BY id LIMIT ?",
            (since.timestamp(), until.timestamp(), MAX_CHANGES + 1),
        ).fetchall()

    rows = await inbox.store.run(read)
    truncated = len(rows) > MAX_CHANGES
    rows = rows[:MAX_CHANGES]
    tallies = {rule.name: _Tally(Counter(), Counter(), []) for rule in rules}
    states: Counter[str] = Counter()
    for row in rows:
        states[row["state"]] += 1
        change = _item(row, attempt=row["attempts"]).change
        for rule in rules:
            if rule.applies(change):
                _count(tallies[rule.name], row)
    return SyncInsights(
        since=since,
        until=until,
        changes=len(rows),
        by_state=tuple(states.most_common()),
        rules=tuple(_insight(name, tally) for name, tally in tallies.items()),
        truncated=truncated,
    )


def _count(tally: _Tally, row: Any) -> None:
    state, note = row["state"], row["reason"] or ""
    if state == "done" and note.startswith(SKIPPED):
        tally.counts["skipped"] += 1
    elif state == "done":
        tally.counts["applied"] += 1
        tally.counts["retried"] += row["attempts"] > 1
        if row["finished_at"] is not None:
            tally.lags.append(max(0.0, row["finished_at"] - row["received_at"]))
    elif state in _OPEN:
        tally.counts["waiting"] += 1
    else:  # retry or dead
        tally.counts["failing" if state == "retry" else "dead"] += 1
        tally.failures[_code(note)] += 1


def _insight(rule: str, tally: _Tally) -> RuleInsight:
    counts = tally.counts
    return RuleInsight(
        rule=rule,
        applied=counts["applied"],
        skipped=counts["skipped"],
        retried=counts["retried"],
        waiting=counts["waiting"],
        failing=counts["failing"],
        dead=counts["dead"],
        failures=tuple(tally.failures.most_common()),
        lag=Durations.of(tally.lags),
    )


def _code(reason: str) -> str:
    """The error code a failure's reason starts with ("BACKEND_UNAVAILABLE: ..."); an
    unexpected error's reason starts with its type ("KeyError: unexpected error; ...")."""
    head = reason.split(":", 1)[0].strip()
    if head and (head.isupper() or "_" in head) and " " not in head:
        return head
    return "UNEXPECTED" if "unexpected error" in reason else "UNKNOWN"
