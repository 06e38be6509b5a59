"""Loads started early keep their failure for the field that needs them."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.errors import BackendUnavailable
from schema.prefetch import Outcome, let_io_progress, settle, start


async def fails() -> int:
    raise BackendUnavailable("scm down", system="scm")


async def answers() -> int:
    return 7


async def test_a_settled_value_is_given_back() -> None:
    outcome = await settle(answers())
    assert outcome.get() == 7


async def test_a_settled_failure_is_raised_where_the_value_is_needed() -> None:
    outcome = await settle(fails())
    assert isinstance(outcome.error, BackendUnavailable)
    with pytest.raises(BackendUnavailable):
        outcome.get()


async def test_a_started_load_nobody_awaits_leaves_no_unretrieved_error() -> None:
    loop = asyncio.get_running_loop()
    reported: list[object] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    future = start(fails())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert future.done()
    del future
    assert reported == []


def test_an_empty_outcome_is_none() -> None:
    empty: Outcome[int] = Outcome()
    assert empty.get() is None


async def test_letting_io_progress_lets_other_ready_work_run_first() -> None:
    order: list[str] = []

    async def chain() -> None:
        for step in range(3):  # e.g. a response read, parsed, and its follow-up call sent
            order.append(f"chain {step}")
            await asyncio.sleep(0)

    async def heavy() -> None:
        await let_io_progress()
        order.append("heavy")

    await asyncio.gather(heavy(), chain())
    assert order == ["chain 0", "chain 1", "chain 2", "heavy"]
