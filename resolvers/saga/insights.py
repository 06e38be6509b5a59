"""Where orders wait: step durations, failures and approval holds, from the journal.

    insights = process_insights(journal, since=..., until=..., now=...)

The journal already records every step event with its time (started, done, failed, landed).
For the processes created in [since, until) this pairs each step's start with its end and
reports, per step, how often it ran, its median and p95 duration and its failures by error
code; the time orders spent held for approval (the longest pause before a step started, for
held orders decided since; up to `now` for orders still held); and the approval rules that
held or rejected orders, most frequent first. Nothing here reads a backend.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .approval import Decision
from .journal import JournalStore, StepEntry
from .state import UNFINISHED, ProcessState, ProcessStatus

ENDED = [s.value for s in ProcessStatus if s not in UNFINISHED]


@dataclass(frozen=True, slots=True)
class Durations:
    """Count, median and 95th percentile of some durations, in seconds."""

    count: int
    median_s: float
    p95_s: float
    max_s: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Durations:
        if not seconds:
            return cls(0, 0.0, 0.0, 0.0)
        ordered = sorted(seconds)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return cls(len(ordered), statistics.median(ordered), p95, ordered[-1])


@dataclass(frozen=True, slots=True)
class StepInsight:
    step: str
    durations: Durations  # of the runs that ended (done or failed)
    failures: tuple[tuple[str, int], ...]  # error code -> count, most frequent first


@dataclass(frozen=True, slots=True)
class RuleCount:
    rule: str
    decision: str  # PENDING_APPROVAL (held) or REJECTED
    count: int


@dataclass(frozen=True, slots=True)
class ProcessInsights:
    since: datetime
    until: datetime
    processes: int
    by_status: tuple[tuple[str, int], ...]
    steps: tuple[StepInsight, ...]  # in the order steps first ran
    approval_wait: Durations  # held orders that were approved or cancelled since
    still_held: Durations  # held orders still waiting, up to `now`
    holding_rules: tuple[RuleCount, ...]


def process_insights(
    journal: JournalStore, *, since: datetime, until: datetime, now: datetime
) -> ProcessInsights:
    """Insights over the processes created in [since, until)."""
    candidates = [*journal.ended_since(ENDED, since), *journal.unfinished()]
    states = {s.id: s for s in candidates if since <= s.created_at < until}
    steps = {pid: journal.steps(pid) for pid in states}
    waits, held_now = _approval_waits(states.values(), steps, now)
    return ProcessInsights(
        since=since,
        until=until,
        processes=len(states),
        by_status=_most_common(s.status.value for s in states.values()),
        steps=_step_insights(steps.values()),
        approval_wait=Durations.of(waits),
        still_held=Durations.of(held_now),
        holding_rules=_holding_rules(states.values()),
    )


def _step_insights(journals: Iterable[list[StepEntry]]) -> tuple[StepInsight, ...]:
    seconds: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, Counter[str]] = defaultdict(Counter)
    for entries in journals:
        started: dict[str, datetime] = {}
        for entry in entries:
            if entry.phase == "started":
                started[entry.step] = entry.at
                seconds.setdefault(entry.step, [])
            elif entry.phase in ("done", "failed") and entry.step in started:
                seconds[entry.step].append((entry.at - started.pop(entry.step)).total_seconds())
            if entry.phase == "failed":
                failures[entry.step][_code(entry.detail)] += 1
    return tuple(
        StepInsight(step, Durations.of(runs), tuple(failures[step].most_common()))
        for step, runs in seconds.items()
    )


def _approval_waits(
    states: Iterable[ProcessState], steps: dict[str, list[StepEntry]], now: datetime
) -> tuple[list[float], list[float]]:
    """For processes an approval rule held: still held, the time since their last step;
    decided since (approved or cancelled), the longest pause before a step started, which is
    the wait for the person deciding (the journal has no separate mark for the decision)."""
    waits: list[float] = []
    held_now: list[float] = []
    for state in states:
        entries = steps[state.id]
        if not _was_held(state) or not entries:
            continue
        if state.status is ProcessStatus.PENDING_APPROVAL:
            held_now.append((now - entries[-1].at).total_seconds())
            continue
        pauses = [
            (later.at - earlier.at).total_seconds()
            for earlier, later in itertools.pairwise(entries)
            if later.phase == "started"
        ]
        if pauses:
            waits.append(max(pauses))
    return waits, held_now


def _was_held(state: ProcessState) -> bool:
    """An approval rule held it (it may have been approved by hand since)."""
    approval = state.approval
    if approval is None or approval.decision is Decision.REJECTED:
        return False
    return any(not reason.passed for reason in approval.reasons)


def _holding_rules(states: Iterable[ProcessState]) -> tuple[RuleCount, ...]:
    """Failed rules of held orders (approved by hand since or not) and of rejected ones."""
    counts: Counter[tuple[str, str]] = Counter()
    for state in states:
        approval = state.approval
        if approval is None:
            continue
        rejected = approval.decision is Decision.REJECTED
        decision = Decision.REJECTED if rejected else Decision.PENDING_APPROVAL
        for reason in approval.reasons:
            if not reason.passed:
                counts[(reason.rule, decision.value)] += 1
    return tuple(RuleCount(rule, decision, n) for (rule, decision), n in counts.most_common())


def _most_common(values: Iterable[str]) -> tuple[tuple[str, int], ...]:
    return tuple(Counter(values).most_common())


def _code(detail: str | None) -> str:
    """The error code a failed step's detail starts with ("BACKEND_UNAVAILABLE: ...")."""
    if not detail:
        return "UNKNOWN"
    head = detail.split(":", 1)[0].strip()
    return head if head.isupper() or "_" in head else "UNKNOWN"
