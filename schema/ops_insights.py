"""Operations insights for people and for BI tools (scope `ops:read`):

- `syncRuleInsights(since, until)`: per sync rule, the changes applied, skipped, retried,
  waiting, failing and dead, the failures by error code, and the lag (received → applied)
  median and p95, from the inbox (resolvers.sync.insights);
- `syncRuleStats(first, after, since, until)`: the same rules as a connection, for the
  `sync_rule_insights` view;
- `orderProcessStats(first, after, since, until)`: `orderProcessInsights` as flat rows for
  the `order_process_insights` view: one per step (runs, median, p95, max, failures, the
  most frequent failure), one for the wait for approval and one for orders still held, one
  per approval rule that held or rejected orders (`kind` says which).

The connections' window defaults to the last `DEFAULT_DAYS` days; a view passes its
`updated_since` as `since`. Only names, counts and durations: no record, customer or amount.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry

from resolvers.errors import CrossdockError
from resolvers.saga import insights as saga
from resolvers.sync.inbox import SqlInbox
from resolvers.sync.insights import RuleInsight, SyncInsights, sync_insights
from schema.connections import Connection, connection_window, from_list
from schema.context import Info
from schema.insights import ProcessCount, ProcessDurations, checked_window
from schema.order_mutations import order_service
from schema.sync import _runtime

DEFAULT_DAYS = 30


class SyncInsightsUnavailable(CrossdockError):
    """The sync inbox is not one the insights can read (a custom Inbox)."""

    code = "NOT_CONFIGURED"


@strawberry.type(description="What one sync rule did with the changes received in a window.")
class SyncRuleInsight:
    rule: str = strawberry.field(description='The rule, e.g. "account_to_customer".')
    applied: int = strawberry.field(description="Changes applied with the rule run.")
    skipped: int = strawberry.field(
        description="Changes done without running it (an older version, its own write back)."
    )
    retried: int = strawberry.field(description="Applied after more than one attempt.")
    waiting: int = strawberry.field(description="Not yet applied (pending or being applied).")
    failing: int = strawberry.field(description="Failed, waiting for their retry.")
    dead: int = strawberry.field(description="Parked after their last attempt (dead letters).")
    failures: list[ProcessCount] = strawberry.field(
        description="Failing and dead changes by error code, most frequent first."
    )
    lag: ProcessDurations = strawberry.field(
        description="Received → applied, of the changes applied."
    )

    @classmethod
    def of(cls, r: RuleInsight) -> SyncRuleInsight:
        return cls(
            rule=r.rule,
            applied=r.applied,
            skipped=r.skipped,
            retried=r.retried,
            waiting=r.waiting,
            failing=r.failing,
            dead=r.dead,
            failures=[ProcessCount(name=n, count=c) for n, c in r.failures],
            lag=ProcessDurations.of(r.lag),
        )


@strawberry.type(description="The sync rules over the changes received in a window.")
class SyncRuleInsights:
    since: datetime = strawberry.field(description="The window's start.")
    until: datetime = strawberry.field(description="The window's end (excluded).")
    changes: int = strawberry.field(description="Changes received in the window.")
    by_state: list[ProcessCount] = strawberry.field(
        description="Their states now (pending, claimed, retry, dead, done)."
    )
    rules: list[SyncRuleInsight] = strawberry.field(
        description="Every enabled rule, in the order they run."
    )
    truncated: bool = strawberry.field(
        description="More changes than are read for one window: ask for a shorter one."
    )

    @classmethod
    def of(cls, i: SyncInsights) -> SyncRuleInsights:
        return cls(
            since=i.since,
            until=i.until,
            changes=i.changes,
            by_state=[ProcessCount(name=n, count=c) for n, c in i.by_state],
            rules=[SyncRuleInsight.of(r) for r in i.rules],
            truncated=i.truncated,
        )


@strawberry.type(description="One row of the order-process insights, for BI tools.")
class OrderProcessStat:
    kind: str = strawberry.field(
        description='"step", "approval_wait" (held orders since decided), "still_held", '
        'or "holding_rule" (an approval rule that held or rejected orders).'
    )
    name: str = strawberry.field(description="The step or the rule; the kind otherwise.")
    count: int = strawberry.field(description="Runs, orders, or orders the rule held.")
    median_seconds: float | None = strawberry.field(description="Null for a rule.")
    p95_seconds: float | None = strawberry.field(description="Null for a rule.")
    max_seconds: float | None = strawberry.field(description="Null for a rule.")
    failures: int = strawberry.field(description="Failed runs of a step.")
    top_failure: str | None = strawberry.field(description="A step's most frequent error code.")
    decision: str | None = strawberry.field(
        description="A rule's decision: PENDING_APPROVAL (held) or REJECTED."
    )


def _durations(kind: str, name: str, d: saga.Durations, failures: int = 0) -> OrderProcessStat:
    shown = ProcessDurations.of(d)
    return OrderProcessStat(
        kind=kind,
        name=name,
        count=d.count,
        median_seconds=shown.median_seconds,
        p95_seconds=shown.p95_seconds,
        max_seconds=shown.max_seconds,
        failures=failures,
        top_failure=None,
        decision=None,
    )


def order_stats(i: saga.ProcessInsights) -> list[OrderProcessStat]:
    """The insights as rows: steps, the approval wait, orders still held, holding rules."""
    rows = []
    for step in i.steps:
        row = _durations("step", step.step, step.durations, sum(n for _, n in step.failures))
        row.top_failure = step.failures[0][0] if step.failures else None
        rows.append(row)
    rows.append(_durations("approval_wait", "approval_wait", i.approval_wait))
    rows.append(_durations("still_held", "still_held", i.still_held))
    for rule in i.holding_rules:
        rows.append(
            OrderProcessStat(
                kind="holding_rule",
                name=rule.rule,
                count=rule.count,
                median_seconds=None,
                p95_seconds=None,
                max_seconds=None,
                failures=0,
                top_failure=None,
                decision=rule.decision,
            )
        )
    return rows


def window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """[since, until): until defaults to now, since to DEFAULT_DAYS before until."""
    end = until or datetime.now(UTC)
    return since or end - timedelta(days=DEFAULT_DAYS), end


async def rule_insights(info: Info, since: datetime, until: datetime | None) -> SyncInsights:
    runtime: Any = _runtime(info)  # SYNC_OFF without sync
    inbox = runtime.inbox
    if not isinstance(inbox, SqlInbox):
        raise SyncInsightsUnavailable("this gateway's sync inbox cannot be read for insights")
    end = checked_window(since, until)  # as orderProcessInsights checks it
    return await sync_insights(inbox, runtime.processor.rules, since=since, until=end)


async def resolve_sync_rule_insights(
    info: Info, since: datetime, until: datetime | None = None
) -> SyncRuleInsights:
    return SyncRuleInsights.of(await rule_insights(info, since, until))


async def resolve_sync_rule_stats(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Connection[SyncRuleInsight]:
    start, end = window(since, until)
    win = connection_window(info, "Query.syncRuleStats", first, after, since=start, until=end)
    found = await rule_insights(info, start, end)
    return from_list(win, [SyncRuleInsight.of(r) for r in found.rules], lambda r: r)


def resolve_order_process_stats(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Connection[OrderProcessStat]:
    start, end = window(since, until)
    win = connection_window(info, "Query.orderProcessStats", first, after, since=start, until=end)
    service = order_service(info)  # NOT_CONFIGURED without the order process
    found = service.insights(since=start, until=checked_window(start, end))
    return from_list(win, order_stats(found), lambda r: r)


SYNC_RULES_DESCRIPTION = (
    "What each sync rule did with the changes received in [since, until) (until: now): "
    "applied, skipped, retried, waiting, failing and dead changes, failures by error code, "
    "and the lag from received to applied (median, p95). Counts and durations only."
)


@strawberry.type
class OpsInsightsQuery:
    """Query mixin: `syncRuleInsights`, `syncRuleStats`, `orderProcessStats`."""

    sync_rule_insights: SyncRuleInsights | None = strawberry.field(
        resolver=resolve_sync_rule_insights, description=SYNC_RULES_DESCRIPTION
    )
    sync_rule_stats: Connection[SyncRuleInsight] | None = strawberry.field(
        resolver=resolve_sync_rule_stats,
        description="`syncRuleInsights`' rules as a connection, for the sync_rule_insights "
        f"view; the window defaults to the last {DEFAULT_DAYS} days.",
    )
    order_process_stats: Connection[OrderProcessStat] | None = strawberry.field(
        resolver=resolve_order_process_stats,
        description="`orderProcessInsights` as flat rows (kind: step, approval_wait, "
        "still_held, holding_rule), for the order_process_insights view; the window "
        f"defaults to the last {DEFAULT_DAYS} days.",
    )
