"""`Query.orderProcessInsights(since, until)`: where orders wait, for operations people.

Per step of the order process: runs, median and p95 duration, failures by error code; the
time orders were held for approval; the approval rules that hold or reject orders most often.
Computed from the order-process journal (resolvers.saga.insights); scope `orders:approve` or
`ops:read`. Only counts and durations: no order, customer or amount is shown.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry

from resolvers.errors import InvalidInput
from resolvers.saga import insights as saga
from resolvers.saga.service import OrderProcessService

MAX_WINDOW = timedelta(days=366)


@strawberry.type(description="Durations in seconds: how many, median, 95th percentile, max.")
class ProcessDurations:
    count: int = strawberry.field(description="How many durations.")
    median_seconds: float = strawberry.field(description="Their median, in seconds.")
    p95_seconds: float = strawberry.field(description="Their 95th percentile, in seconds.")
    max_seconds: float = strawberry.field(description="The longest, in seconds.")

    @classmethod
    def of(cls, d: saga.Durations) -> ProcessDurations:
        return cls(
            count=d.count,
            median_seconds=round(d.median_s, 3),
            p95_seconds=round(d.p95_s, 3),
            max_seconds=round(d.max_s, 3),
        )


@strawberry.type(description="How often something happened, by its name.")
class ProcessCount:
    name: str = strawberry.field(description="A status, or an error code.")
    count: int = strawberry.field(description="How often.")


@strawberry.type(description="One step of the order process over the window.")
class ProcessStepInsight:
    step: str = strawberry.field(description='The step, e.g. "erp_order_create".')
    durations: ProcessDurations = strawberry.field(description="Runs that ended.")
    failures: list[ProcessCount] = strawberry.field(description="Failures by error code.")


@strawberry.type(description="An approval rule that held or rejected orders.")
class ApprovalRuleCount:
    rule: str = strawberry.field(description='e.g. "require_credit", "max_auto_approve_total".')
    decision: str = strawberry.field(description="PENDING_APPROVAL (held) or REJECTED.")
    count: int = strawberry.field(description="Orders it held or rejected.")


@strawberry.type(description="Where orders wait: the order process over a time window.")
class OrderProcessInsights:
    since: datetime = strawberry.field(description="The window's start.")
    until: datetime = strawberry.field(description="The window's end (excluded).")
    processes: int = strawberry.field(description="Processes created in the window.")
    by_status: list[ProcessCount] = strawberry.field(description="Their statuses now.")
    steps: list[ProcessStepInsight] = strawberry.field(description="In the order steps run.")
    approval_wait: ProcessDurations = strawberry.field(
        description="Held orders since approved or cancelled: time from hold to decision."
    )
    still_held: ProcessDurations = strawberry.field(
        description="Held orders still waiting: time held so far."
    )
    holding_rules: list[ApprovalRuleCount] = strawberry.field(
        description="The approval rules that held or rejected orders, most frequent first."
    )

    @classmethod
    def of(cls, i: saga.ProcessInsights) -> OrderProcessInsights:
        return cls(
            since=i.since,
            until=i.until,
            processes=i.processes,
            by_status=[ProcessCount(name=n, count=c) for n, c in i.by_status],
            steps=[
                ProcessStepInsight(
                    step=s.step,
                    durations=ProcessDurations.of(s.durations),
                    failures=[ProcessCount(name=n, count=c) for n, c in s.failures],
                )
                for s in i.steps
            ],
            approval_wait=ProcessDurations.of(i.approval_wait),
            still_held=ProcessDurations.of(i.still_held),
            holding_rules=[
                ApprovalRuleCount(rule=r.rule, decision=r.decision, count=r.count)
                for r in i.holding_rules
            ],
        )


def order_insights(
    service: OrderProcessService, since: datetime, until: datetime | None
) -> OrderProcessInsights:
    """The insights over [since, until) (until: now), the window checked first."""
    end = checked_window(since, until)
    return OrderProcessInsights.of(service.insights(since=since, until=end))


def checked_window(since: datetime, until: datetime | None) -> datetime:
    """The window's end (until, else now); InvalidInput for a window without a time zone,
    backwards, or longer than 366 days."""
    end = until or datetime.now(since.tzinfo)
    for name, value in (("since", since), ("until", end)):
        if value.tzinfo is None:
            raise InvalidInput(f"{name} has no time zone: give one, e.g. 2026-12-01T00:00:00Z")
    if not since < end:
        raise InvalidInput("since must be before until")
    if end - since > MAX_WINDOW:
        raise InvalidInput("the window is longer than 366 days: ask for a shorter one")
    return end


INSIGHTS_DESCRIPTION = (
    "Where orders wait, over the order processes created in [since, until) (until: now): "
    "per step the runs, median and p95 duration and failures by code; the time held for "
    "approval; the approval rules that hold orders most often. Counts and durations only."
)
