"""One query, executed a field at a time for every parent object at once.

graphql-core resolves and completes each field of each object on its own: for 200 orders of 5
lines that is some 20,000 calls through its per-field machinery, most of them to read an
attribute. Here a *batch* is every object of one type that completes the same selection (all
200 orders; all their lines): each field is resolved for the whole batch in one loop, leaves
are coerced in that loop, and the objects it returns form the next batch. Fields that return
awaitables await them together, one task per field and batch rather than per object, and each
field's sub-selection starts as soon as that field is done (no level-wide barrier), so loaders
still see every key of a level in one tick and the backends the same calls.

What the spec asks of execution is kept: response keys in selection order, errors located at
the failing position, a null in a non-null position nulling the nearest nullable ancestor,
errors under an already nulled position dropped (graphql-core's `CollectedErrors`). Resolvers
get the same `info` they would get from graphql-core, so strawberry runs them unchanged.
Abstract types and `is_type_of` are left to graphql-core, which completes such fields whole
(`plans.DELEGATE`). List elements that are awaitables (in lists and tuples) are awaited, all of
a field's at once, before the list is completed, as graphql-core awaits each.
"""

from __future__ import annotations

from asyncio import gather
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLObjectType
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet

from schema.execution.field_run import AwaitableItems, FieldRun
from schema.execution.plans import LIST
from schema.execution.tree import ROOT, Batch

if TYPE_CHECKING:
    from schema.execution.state import ExecutionState


async def settle(awaitables: list[Awaitable[Any]]) -> list[Any]:
    """Every awaitable's value or exception (cancellation still propagates). One awaitable is
    awaited in place, as graphql-core does: a task would start its loads a tick later than
    the loads of its siblings, which then miss their batch."""
    if len(awaitables) == 1:
        try:
            return [await awaitables[0]]
        except Exception as error:
            return [error]
    done = await gather(*awaitables, return_exceptions=True)
    for outcome in done:
        if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
            raise outcome
    return done


async def execute(
    executor: ExecutionState,
    root_type: GraphQLObjectType,
    root_value: Any,
    fields: GroupedFieldSet,
) -> dict[str, Any] | None:
    """The operation's data; None when a non-null root field failed."""
    batch = Batch(root_type, [])
    data = batch.add(root_value, ROOT)
    await run_batch(executor, batch, fields)
    return None if executor.data_nulled else data


async def run_batch(executor: ExecutionState, batch: Batch, fields: GroupedFieldSet) -> None:
    """Every field of the selection for the whole batch; each field's sub-selection follows
    as soon as that field is complete. Objects nulled meanwhile get no more fields."""
    steps = []
    nullings = -1
    for key, details in fields.items():
        if executor.nullings != nullings:  # rare: only after a non-null field failed
            nullings = executor.nullings
            batch = live(executor, batch)
            if not batch.sources:
                break
        step = start_field(executor, batch, key, details)
        if step is not None:
            steps.append(step)
    if len(steps) == 1:
        await steps[0]
    elif steps:
        await gather(*steps)


def live(executor: ExecutionState, batch: Batch) -> Batch:
    if executor.data_nulled:
        return Batch(batch.object_type, batch.field_details)
    return batch.alive() if executor.nullings else batch


def start_field(
    executor: ExecutionState, batch: Batch, key: str, details: FieldDetailsList
) -> Awaitable[None] | None:
    """Resolve one field for the batch; what is left to await, if anything."""
    name = details[0].node.name.value
    if name == "__typename":
        type_name = batch.object_type.name
        for result in batch.results:
            result[key] = type_name
        return None
    field_def = executor.schema.get_field(batch.object_type, name)
    if field_def is None:  # cannot pass validation; graphql-core leaves the key out too
        return None
    run = FieldRun(
        executor, batch, key, details, executor.plans.field(batch.object_type, name, field_def)
    )
    awaiting = run.resolve()
    items = list_items(run) if not awaiting and run.pending is None else None
    if awaiting or run.pending is not None or items is not None:
        for result in batch.results:  # the key's place in selection order, filled later
            result[key] = None
        return finish(run, awaiting, items)
    run.complete()
    return sub_selection(run)


def list_items(run: FieldRun) -> AwaitableItems | None:
    """The awaitable elements of a list field's values, if there are any."""
    if run.plan.shape.kind != LIST:
        return None
    items = AwaitableItems(run)
    return items if items.find(run) else None


async def finish(run: FieldRun, awaiting: list[int], items: AwaitableItems | None = None) -> None:
    """Await what the field's resolution left pending (values, then awaitable elements of
    lists), then complete it and its selection."""
    if run.pending is not None:  # a batch resolver's result
        try:
            outcome = await run.pending
        except Exception as error:  # the whole batch failed: every parent's field fails
            outcome = [error] * len(run.batch.sources)
        awaiting = run.take(outcome)
    values = run.values
    if awaiting:
        outcomes = await settle([values[index] for index in awaiting])
        for index, outcome in zip(awaiting, outcomes, strict=True):
            values[index] = outcome
    if items is None and (awaiting or run.pending is not None):
        items = list_items(run)
    if items is not None:  # each element's value, or its exception (an error at the element)
        outcomes = await settle([container[index] for container, index in items.slots])
        for (container, index), outcome in zip(items.slots, outcomes, strict=True):
            container[index] = outcome
    run.complete()
    step = sub_selection(run)
    if step is not None:
        await step


def sub_selection(run: FieldRun) -> Awaitable[None] | None:
    children = run.children
    if children is None or not children.sources:
        return None
    fields = run.executor.collect_subfields(children.object_type, children.field_details)[0]
    return run_batch(run.executor, children, fields)
