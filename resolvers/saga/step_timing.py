"""Step durations as the journal times them, told to an observer as each step ends.

    journal = TimedJournal(state.open_journal(saga))      # wiring
    journal.observe = metrics.order_step                  # (step, "done" | "failed", seconds)

The engine journals every step before it runs ("started") and after ("done", or "failed"
with its error); the duration is the difference of those two journal times, the same
numbers `orderProcessInsights` reads back. It is told by the process that ran the step,
when the step ends: with several workers or replicas each step is counted once, by the
one that ran it (a step whose worker died is never counted: its retry, by whoever takes the
process up, is a new start). Reading durations back from the shared journal when scraped
would count every step once per worker instead.

Everything else is passed through to the wrapped journal unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from .journal import JournalStore, StepEntry
from .state import ProcessState

StepObserver = Callable[[str, str, float], None]  # (step, outcome "done" | "failed", seconds)
ENDS = ("done", "failed")
MAX_OPEN = 10_000  # steps started and not ended kept (a crash leaves its step open)


class TimedJournal:
    """A JournalStore that times each step from its "started" to its "done" or "failed"."""

    def __init__(self, journal: JournalStore, observe: StepObserver | None = None) -> None:
        self.inner = journal
        self.observe = observe
        self._started: dict[tuple[str, str], datetime] = {}

    def record_step(
        self, process_id: str, step: str, phase: str, at: datetime, detail: str | None = None
    ) -> None:
        self.inner.record_step(process_id, step, phase, at, detail)
        key = (process_id, step)
        if phase == "started":
            if len(self._started) >= MAX_OPEN:
                self._started.pop(next(iter(self._started)))
            self._started[key] = at
        elif phase in ENDS and key in self._started:
            seconds = max(0.0, (at - self._started.pop(key)).total_seconds())
            if self.observe is not None:
                self.observe(step, phase, seconds)

    def close(self) -> None:
        self.inner.close()

    def key_digest(self, idempotency_key: str) -> str:
        return self.inner.key_digest(idempotency_key)

    def digest(self, purpose: str, value: str) -> str:
        return self.inner.digest(purpose, value)

    def claim(self, state: ProcessState) -> ProcessState | None:
        return self.inner.claim(state)

    def save(self, state: ProcessState) -> None:
        self.inner.save(state)

    def release_key(self, process_id: str) -> None:
        self.inner.release_key(process_id)

    def load(self, process_id: str) -> ProcessState | None:
        return self.inner.load(process_id)

    def find_by_key(self, idempotency_key: str) -> ProcessState | None:
        return self.inner.find_by_key(idempotency_key)

    def find_by_order(self, crm_order_id: str) -> ProcessState | None:
        return self.inner.find_by_order(crm_order_id)

    def unfinished(self) -> list[ProcessState]:
        return self.inner.unfinished()

    def resumable(self) -> list[ProcessState]:
        return self.inner.resumable()

    def ended_since(self, statuses: Sequence[str], since: datetime) -> list[ProcessState]:
        return self.inner.ended_since(statuses, since)

    def steps(self, process_id: str) -> list[StepEntry]:
        return self.inner.steps(process_id)

    def hold(self, process_id: str) -> AbstractContextManager[None]:
        return self.inner.hold(process_id)
