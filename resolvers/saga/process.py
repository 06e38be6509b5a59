"""The engine: run forward steps, undo in reverse on failure, journal before and after each.

A crash between steps (simulated in tests by a `step_hook` raising `SimulatedCrash`) leaves
the journal saying which step was started and which were done; `ProcessEngine.resume`
picks up from there, because every step is safe to run again.

Unknown outcomes (resolvers.saga.outcomes): a failed CRM approval that may have landed is read
back within a bounded wait; not seen, the process is NEEDS_ATTENTION and finished forward by
the resolver. Every compensation ends with a re-read of both systems (resolvers.saga.verify):
FAILED, CANCELLED or (after a failed approval) PENDING_APPROVAL only when they agree.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from resolvers.errors import CrossdockError, InvalidInput

from .approval import Approval, Decision
from .journal import JournalStore
from .outcomes import (
    APPROVAL,
    FORWARD,
    PHASE,
    RESOLVE,
    SUSPECT,
    Patience,
    has_probe,
    maybe_applied,
    settle,
)
from .state import ProcessError, ProcessState, ProcessStatus
from .steps import FORWARD as FORWARD_STEPS
from .steps import PLACEMENT, ROLLBACK, UNDO, StepContext, forward_plan, undo_plan
from .verify import disagreements

log = logging.getLogger("crossdock.saga")

# Called as step_hook(step, "before" | "after"); tests raise SimulatedCrash from it.
StepHook = Callable[[str, str], None]
_FIRST_WRITE = "crm_upsert"


class SimulatedCrash(BaseException):
    """Stops the process between two steps, as if the gateway died (tests only)."""


class ProcessEngine:
    """Runs one process at a time against the journal; callers hold the per-process lock."""

    def __init__(
        self,
        ctx: StepContext,
        journal: JournalStore,
        step_hook: StepHook | None,
        patience: Patience | None = None,
    ) -> None:
        self._ctx = ctx
        self._journal = journal
        self._hook = step_hook or (lambda step, phase: None)
        self._patience = patience or Patience()

    async def resume(self, state: ProcessState) -> ProcessState:
        if state.status is ProcessStatus.RUNNING:
            return await self.forward(state)
        if state.status not in (ProcessStatus.COMPENSATING, ProcessStatus.NEEDS_ATTENTION):
            return state
        if not state.cancel_requested and state.extra.get(RESOLVE) == FORWARD:
            extra = {k: v for k, v in state.extra.items() if k != RESOLVE}
            return await self.forward(
                dataclasses.replace(state, status=ProcessStatus.RUNNING, extra=extra)
            )
        if _approving(state):
            return await self.roll_back_approval(state)
        return await self.undo(state)

    async def forward(self, state: ProcessState) -> ProcessState:
        state = dataclasses.replace(state, attention=None)
        while (step := _next(forward_plan(state), state.done)) is not None:
            if step == _FIRST_WRITE and not state.writes_started:
                state = self._save(dataclasses.replace(state, writes_started=True))
            self._begin(state, step)
            try:
                state = await FORWARD_STEPS[step](self._ctx, state)
            except Exception as exc:  # every failure is recorded and undone, expected or not
                state = self._failed_step(state, step, exc)
                if not await self._landed_anyway(state, step, exc):
                    return await self._fail(state, step, exc)
                self._journal.record_step(state.id, step, "landed", self._ctx.clock())
            state = self._end(dataclasses.replace(state, done=(*state.done, step)), step)
        extra = {k: v for k, v in state.extra.items() if k != PHASE}
        return self._save(dataclasses.replace(state, status=_settled(state), extra=extra))

    async def undo(self, state: ProcessState) -> ProcessState:
        final = ProcessStatus.CANCELLED if state.cancel_requested else ProcessStatus.FAILED
        return await self._compensate(state, undo_plan(state), final)

    async def roll_back_approval(self, state: ProcessState) -> ProcessState:
        """Undo what a failed approval wrote and return to PENDING_APPROVAL, to be retried."""
        state = await self._compensate(state, ROLLBACK, ProcessStatus.PENDING_APPROVAL)
        if state.status is not ProcessStatus.PENDING_APPROVAL:
            return state
        reasons = state.approval.reasons if state.approval else ()
        pending = Approval(
            Decision.PENDING_APPROVAL, tuple(r for r in reasons if r.rule != "manual")
        )
        extra = {k: v for k, v in state.extra.items() if k != PHASE}
        done = tuple(step for step in state.done if step in PLACEMENT)
        return self._save(
            dataclasses.replace(state, approval=pending, done=done, undone=(), extra=extra)
        )

    async def reopen(self, state: ProcessState, problems: list[str]) -> ProcessState:
        """A process that ended, found to disagree with the systems later: undo it again."""
        detail = "; ".join(problems)
        self._journal.record_step(state.id, "verify", "failed", self._ctx.clock(), detail)
        log.warning(
            "order process %s reopened: the systems disagree with %s", state.id, state.status.value
        )
        state = dataclasses.replace(state, undone=())
        if state.status is ProcessStatus.PENDING_APPROVAL:
            return await self.roll_back_approval(
                dataclasses.replace(state, extra={**state.extra, PHASE: APPROVAL})
            )
        return await self.undo(state)

    async def _compensate(
        self, state: ProcessState, plan: tuple[str, ...], final: ProcessStatus
    ) -> ProcessState:
        """Run the undo `plan`, then re-read both systems; `final` only when they agree."""
        state = self._save(dataclasses.replace(state, status=ProcessStatus.COMPENSATING))
        for _round in range(2):  # a write that landed meanwhile gets one more round
            while (step := _next(plan, state.undone)) is not None:
                state, failure = await self._undo_step(state, step)
                if failure is not None:
                    return self._attention(state, step, failure)
            try:
                problems = await disagreements(self._ctx, state, final)
            except Exception as exc:
                self._failed_step(state, "verify", exc)
                return self._attention(state, "verify", exc)
            if not problems:
                return self._save(dataclasses.replace(state, status=final, attention=None))
            self._journal.record_step(
                state.id, "verify", "failed", self._ctx.clock(), "; ".join(problems)
            )
            state = dataclasses.replace(state, undone=())
        disagree = ProcessError("SYSTEMS_DISAGREE", "verify", "; ".join(problems))
        return self._stuck(state, disagree)

    async def _undo_step(
        self, state: ProcessState, step: str
    ) -> tuple[ProcessState, Exception | None]:
        """One compensation step, tried again after a failure (it reads before it writes)."""
        failure: Exception | None = None
        for _attempt in range(self._patience.undo_attempts):
            self._begin(state, step)
            try:
                state = await UNDO[step](self._ctx, state)
            except Exception as exc:
                state, failure = self._failed_step(state, step, exc), exc
                continue
            state = self._end(dataclasses.replace(state, undone=(*state.undone, step)), step)
            return state, None
        return state, failure

    async def _landed_anyway(self, state: ProcessState, step: str, exc: Exception) -> bool:
        """For a write that cannot be fenced (the CRM approval), read it back: did it land?"""
        if not (has_probe(step) and maybe_applied(exc)):
            return False
        return bool(await settle(self._ctx, state, step, self._patience))

    async def _fail(self, state: ProcessState, step: str, exc: Exception) -> ProcessState:
        state = dataclasses.replace(state, error=_error(step, exc))
        if not state.writes_started:
            if isinstance(exc, InvalidInput):
                self._journal.release_key(state.id)  # nothing written: the key may be reused
            return self._save(dataclasses.replace(state, status=ProcessStatus.FAILED))
        if has_probe(step) and maybe_applied(exc):
            # The approval may still land: stay where nothing is violated (the mirror reserves,
            # the CRM order is not Approved) and let the resolver finish it forward.
            state = dataclasses.replace(state, extra={**state.extra, RESOLVE: FORWARD})
            return self._attention(state, step, exc)
        if _approving(state):
            return await self.roll_back_approval(state)
        return await self.undo(state)

    def _attention(self, state: ProcessState, step: str, exc: Exception) -> ProcessState:
        return self._stuck(state, _error(step, exc))

    def _stuck(self, state: ProcessState, attention: ProcessError) -> ProcessState:
        log.error("order process %s needs attention: %s failed", state.id, attention.step)
        stuck = dataclasses.replace(
            state, status=ProcessStatus.NEEDS_ATTENTION, attention=attention
        )
        return self._save(stuck)

    def _begin(self, state: ProcessState, step: str) -> None:
        self._journal.record_step(state.id, step, "started", self._ctx.clock())
        self._hook(step, "before")

    def _end(self, state: ProcessState, step: str) -> ProcessState:
        self._journal.record_step(state.id, step, "done", self._ctx.clock())
        state = self._save(state)
        self._hook(step, "after")
        return state

    def _failed_step(self, state: ProcessState, step: str, exc: Exception) -> ProcessState:
        """Journal the failure; a write whose outcome is unknown marks the process suspect."""
        if not isinstance(exc, CrossdockError):
            log.exception("order process %s: unexpected error in %s", state.id, step)
        detail = _error(step, exc)
        self._journal.record_step(
            state.id, step, "failed", self._ctx.clock(), f"{detail.code}: {detail.message}"
        )
        if state.writes_started and maybe_applied(exc):
            return dataclasses.replace(state, extra={**state.extra, SUSPECT: "1"})
        return state

    def _save(self, state: ProcessState) -> ProcessState:
        state = dataclasses.replace(state, updated_at=self._ctx.clock())
        self._journal.save(state)
        return state


def _approving(state: ProcessState) -> bool:
    return not state.cancel_requested and state.extra.get(PHASE) == APPROVAL


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
