"""The engine: run forward steps, undo in reverse on failure, journal before and after each.

A crash between steps (simulated in tests by a `step_hook` raising `SimulatedCrash`) leaves
the journal saying which step was started and which were done; `ProcessEngine.resume`
picks up from there, because every step is safe to run again.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from resolvers.errors import CrossdockError, InvalidInput

from .approval import Decision
from .journal import Journal
from .state import ProcessError, ProcessState, ProcessStatus
from .steps import FORWARD, UNDO, StepContext, forward_plan, undo_plan

log = logging.getLogger("crossdock.saga")

# Called as step_hook(step, "before" | "after"); tests raise SimulatedCrash from it.
StepHook = Callable[[str, str], None]
_FIRST_WRITE = "crm_upsert"


class SimulatedCrash(BaseException):
    """Stops the process between two steps, as if the gateway died (tests only)."""


class ProcessEngine:
    """Runs one process at a time against the journal; callers hold the per-process lock."""

    def __init__(self, ctx: StepContext, journal: Journal, step_hook: StepHook | None) -> None:
        self._ctx = ctx
        self._journal = journal
        self._hook = step_hook or (lambda step, phase: None)

    async def resume(self, state: ProcessState) -> ProcessState:
        if state.status is ProcessStatus.RUNNING:
            return await self.forward(state)
        if state.status in (ProcessStatus.COMPENSATING, ProcessStatus.NEEDS_ATTENTION):
            return await self.undo(dataclasses.replace(state, status=ProcessStatus.COMPENSATING))
        return state

    async def forward(self, state: ProcessState) -> ProcessState:
        while (step := _next(forward_plan(state), state.done)) is not None:
            if step == _FIRST_WRITE and not state.writes_started:
                state = self._save(dataclasses.replace(state, writes_started=True))
            self._begin(state, step)
            try:
                state = await FORWARD[step](self._ctx, state)
            except Exception as exc:  # every failure is recorded and undone, expected or not
                return await self._fail(state, step, exc)
            state = self._end(dataclasses.replace(state, done=(*state.done, step)), step)
        return self._save(dataclasses.replace(state, status=_settled(state)))

    async def undo(self, state: ProcessState) -> ProcessState:
        state = self._save(dataclasses.replace(state, status=ProcessStatus.COMPENSATING))
        while (step := _next(undo_plan(state), state.undone)) is not None:
            self._begin(state, step)
            try:
                state = await UNDO[step](self._ctx, state)
            except Exception as exc:
                self._failed_step(state, step, exc)
                attention = _error(step, exc)
                stuck = dataclasses.replace(
                    state, status=ProcessStatus.NEEDS_ATTENTION, attention=attention
                )
                log.error("order process %s needs attention: %s failed", state.id, step)
                return self._save(stuck)
            state = self._end(dataclasses.replace(state, undone=(*state.undone, step)), step)
        final = ProcessStatus.CANCELLED if state.cancel_requested else ProcessStatus.FAILED
        return self._save(dataclasses.replace(state, status=final, attention=None))

    async def _fail(self, state: ProcessState, step: str, exc: Exception) -> ProcessState:
        self._failed_step(state, step, exc)
        state = dataclasses.replace(state, error=_error(step, exc))
        if not state.writes_started:
            if isinstance(exc, InvalidInput):
                self._journal.release_key(state.id)  # nothing written: the key may be reused
            return self._save(dataclasses.replace(state, status=ProcessStatus.FAILED))
        return await self.undo(state)

    def _begin(self, state: ProcessState, step: str) -> None:
        self._journal.record_step(state.id, step, "started", self._ctx.clock())
        self._hook(step, "before")

    def _end(self, state: ProcessState, step: str) -> ProcessState:
        self._journal.record_step(state.id, step, "done", self._ctx.clock())
        state = self._save(state)
        self._hook(step, "after")
        return state

    def _failed_step(self, state: ProcessState, step: str, exc: Exception) -> None:
        if not isinstance(exc, CrossdockError):
            log.exception("order process %s: unexpected error in %s", state.id, step)
        detail = _error(step, exc)
        self._journal.record_step(
            state.id, step, "failed", self._ctx.clock(), f"{detail.code}: {detail.message}"
        )

    def _save(self, state: ProcessState) -> ProcessState:
        state = dataclasses.replace(state, updated_at=self._ctx.clock())
        self._journal.save(state)
        return state


def _next(plan: tuple[str, ...], done: tuple[str, ...]) -> str | None:
    return next((step for step in plan if step not in done), None)


def _settled(state: ProcessState) -> ProcessStatus:
    decision = state.approval.decision if state.approval else None
    if decision is Decision.APPROVED:
        return ProcessStatus.APPROVED
    if decision is Decision.PENDING_APPROVAL:
        return ProcessStatus.PENDING_APPROVAL
    return ProcessStatus.REJECTED


def _error(step: str, exc: Exception) -> ProcessError:
    if isinstance(exc, CrossdockError):
        return ProcessError(exc.code, step, exc.message)
    return ProcessError("INTERNAL", step, "Unexpected error; see the gateway log.")
