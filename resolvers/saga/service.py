"""The API the schema calls: place, approve, cancel, inspect and recover order processes.

Idempotency: the same key with the same input returns the recorded process and writes
nothing; a different input raises IDEMPOTENCY_CONFLICT. Concurrent calls with one key run
once: a lock per key, then the journal's unique key digest. New orders of one customer run
one at a time, so concurrent orders cannot share its credit. Checkouts of one SKU run one at
a time from the availability read to the reservation read-back (stock locks). Every lock
comes from one `locks.LockProvider`: in-process `LocalLocks` by default, Redis locks shared
by replicas with shared state (resolvers.state). A process is run inside `journal.hold`,
which with a journal shared by replicas is a lease: a replica that died mid-process is
taken over by another's resolver pass once the lease expired.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from resolvers.errors import BackendError, InvalidInput, NotFound
from resolvers.ports import CrmPort, ErpPort
from resolvers.records import Order
from resolvers.state.errors import ProcessBusy

from .approval import Approval, ApprovalRules, Decision, Reason
from .insights import ProcessInsights, process_insights
from .journal import JournalStore, StepEntry
from .locks import LocalLocks, LockProvider, hold_stock
from .outcomes import APPROVAL, PHASE, SUSPECT, Patience
from .process import ProcessEngine, StepHook
from .quantities import OrderLimits, check_line_quantities
from .recovery import RecoveryGate
from .reservation import RESERVING_STEPS, ShortPolicy
from .state import (
    IdempotencyConflict,
    InvalidTransition,
    OrderInput,
    ProcessError,
    ProcessState,
    ProcessStatus,
    Reservation,
)
from .steps import StepContext
from .verify import disagreements

# Ended processes the resolver re-reads while they are recent (Patience.watch_s).
WATCHED = (ProcessStatus.FAILED, ProcessStatus.CANCELLED, ProcessStatus.PENDING_APPROVAL)
_MAX_KEY = 255
_MAX_LINES = 200


@dataclass(frozen=True, slots=True)
class PlaceOrderOutcome:
    """What placeOrder / approveOrder / cancelOrder answer."""

    process_id: str
    status: ProcessStatus
    order: Order | None
    approval: Approval | None
    reservations: tuple[Reservation, ...]
    error: ProcessError | None


@dataclass(frozen=True, slots=True)
class ProcessView:
    """orderProcess: a process with each journaled step event."""

    id: str
    status: ProcessStatus
    created_at: datetime
    updated_at: datetime
    order_id: str | None
    erp_order: str | None
    approval: Approval | None
    error: ProcessError | None
    attention: ProcessError | None
    steps: tuple[StepEntry, ...]
    placed_by: str | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OrderProcessService:
    """Runs the order saga across the CRM and the ERP.

    Example::

        service = OrderProcessService(crm, scm, Journal(path, Sealer.from_environ(os.environ)),
                                      ApprovalRules(max_auto_approve_total=Decimal("5000")))
        Resolver(service, interval_s=5).start()  # recover(), then reconcile() every 5 s
        outcome = await service.place_order(OrderInput(...), "client-key-1")
    """

    def __init__(
        self,
        crm: CrmPort,
        scm: ErpPort,
        journal: JournalStore,
        rules: ApprovalRules,
        *,
        clock: Callable[[], datetime] = _utcnow,
        step_hook: StepHook | None = None,
        delivery_lead_days: int = 7,
        patience: Patience | None = None,
        recovery_wait_s: float = 5.0,
        limits: OrderLimits | None = None,
        on_short_reservation: ShortPolicy = "release",
        locks: LockProvider | None = None,
    ) -> None:
        self._crm = crm
        self._journal = journal
        self._clock = clock
        self._patience = patience or Patience()
        self._limits = limits or OrderLimits()
        self._stock: LockProvider = locks or LocalLocks()
        self._ctx = StepContext(
            crm, scm, rules, clock, delivery_lead_days, self._limits, on_short_reservation
        )
        self._engine = ProcessEngine(self._ctx, journal, step_hook, self._patience)
        self._recovery = RecoveryGate(recovery_wait_s)

    async def place_order(
        self, order: OrderInput, idempotency_key: str, *, subject: str | None = None
    ) -> PlaceOrderOutcome:
        """Place an order for `subject` (the caller's token subject, who may read it back)."""
        _check_input(order, idempotency_key, self._limits)
        fingerprint = self._journal.digest("input", _canonical(order))
        async with self._mutex("key:" + self._journal.key_digest(idempotency_key)):
            state = self._journal.find_by_key(idempotency_key)
            if state is not None:
                await self._recovery.wait_for(state.id)
                state = self._reload(state)
            if state is None:
                state = self._new_state(order, idempotency_key, fingerprint, subject)
                state = self._journal.claim(state) or await self._run_new(state)
            elif state.fingerprint != fingerprint or not _same_caller(state, subject):
                raise IdempotencyConflict(
                    "idempotencyKey was already used with a different input; use a new key"
                )
            elif state.status is ProcessStatus.RUNNING:
                state = await self._resume(state)
        return await self._outcome(state)

    async def approve(self, id: str, *, approver: str | None = None) -> PlaceOrderOutcome:
        state = self._find(id)
        await self._recovery.wait_for(state.id)
        async with self._process(state.id):
            state = self._reload(state)
            if state.status is not ProcessStatus.PENDING_APPROVAL:
                raise InvalidTransition(f"order process {state.id} is {state.status.value}")
            who = f"approved by {approver}" if approver else "approved manually"
            earlier = state.approval.reasons if state.approval else ()
            approval = Approval(Decision.APPROVED, (*earlier, Reason("manual", who, True)))
            # A process held for stock ran the reserving steps once already: run them again.
            done = tuple(step for step in state.done if step not in RESERVING_STEPS)
            state = dataclasses.replace(
                state,
                approval=approval,
                status=ProcessStatus.RUNNING,
                error=None,
                done=done,
                reservations=(),
                extra={**state.extra, PHASE: APPROVAL},  # a failure returns to PENDING_APPROVAL
            )
            async with hold_stock(self._stock, _skus(state)):
                state = await self._engine.forward(state)
        return await self._outcome(state)

    async def cancel(self, id: str) -> PlaceOrderOutcome:
        state = self._find(id)
        allowed = (
            ProcessStatus.PENDING_APPROVAL,
            ProcessStatus.APPROVED,
            ProcessStatus.NEEDS_ATTENTION,
        )
        await self._recovery.wait_for(state.id)
        async with self._process(state.id):
            state = self._reload(state)
            if state.status not in allowed:
                raise InvalidTransition(f"order process {state.id} is {state.status.value}")
            state = await self._engine.undo(dataclasses.replace(state, cancel_requested=True))
        return await self._outcome(state)

    async def get_process(self, id: str) -> ProcessView | None:
        state = self._journal.load(id) or self._journal.find_by_order(id)
        if state is None:
            return None
        return ProcessView(
            state.id,
            state.status,
            state.created_at,
            state.updated_at,
            state.crm_order_id,
            state.erp_order,
            state.approval,
            state.error,
            state.attention,
            tuple(self._journal.steps(state.id)),
            state.placed_by,
        )

    def insights(self, *, since: datetime, until: datetime) -> ProcessInsights:
        """Where orders wait, over the processes created in [since, until): step durations and
        failures, time held for approval, the rules that hold orders (resolvers.saga.insights)."""
        return process_insights(self._journal, since=since, until=until, now=self._ctx.clock())

    async def recover(self) -> list[ProcessState]:
        """Resume or undo every process a crash interrupted, then re-verify the recently ended
        ones (`reconcile`); run once at start-up. Requests touching a process under recovery
        wait for it (bounded) or get PROCESS_RECOVERING."""
        pending = self._journal.unfinished()
        self._recovery.begin(state.id for state in pending)
        try:
            resumed = []
            for state in pending:
                try:
                    if (done := await self._resume_free(state)) is not None:
                        resumed.append(done)
                finally:
                    self._recovery.done(state.id)
            return [*resumed, *await self._reverify()]
        finally:
            self._recovery.end()

    async def reconcile(self) -> list[ProcessState]:
        """One pass of the background resolver: finish NEEDS_ATTENTION processes (forward or
        back) now that the backends may answer, and re-read recently ended processes whose
        writes had unknown outcomes, reopening any the systems disagree with. With a journal
        shared by replicas, also take over the processes of a replica whose lease expired."""
        resumed = [await self._resume_free(state) for state in self._journal.resumable()]
        return [*[s for s in resumed if s is not None], *await self._reverify()]

    async def resolve(self, id: str) -> ProcessState:
        """One resolver pass for one NEEDS_ATTENTION process (what `reconcile` does for all):
        finished forward or back, reading both systems first. Reconciliation's repair."""
        state = self._find(id)
        await self._recovery.wait_for(state.id)
        if state.status is not ProcessStatus.NEEDS_ATTENTION:
            raise InvalidTransition(f"order process {state.id} is {state.status.value}")
        return await self._resume(state)

    async def reopen(self, id: str) -> ProcessState:
        """Re-read an ended process's systems and compensate again if they disagree (the
        resolver's watch, for any ended process); unchanged when they agree."""
        state = self._find(id)
        await self._recovery.wait_for(state.id)
        return await self._recheck(state) or self._reload(state)

    async def _reverify(self) -> list[ProcessState]:
        since = self._clock() - timedelta(seconds=self._patience.watch_s)
        watched = [s.value for s in WATCHED]
        changed = []
        for state in self._journal.ended_since(watched, since):
            if state.extra.get(SUSPECT) and (found := await self._recheck(state)) is not None:
                changed.append(found)
        return changed

    async def _recheck(self, state: ProcessState) -> ProcessState | None:
        """Reopen an ended process the systems disagree with; None when they agree (or cannot
        be read now: the next pass tries again)."""
        async with self._process(state.id):
            state = self._reload(state)
            if state.status not in WATCHED:
                return None
            try:
                problems = await disagreements(self._ctx, state, state.status)
            except BackendError:
                return None
            if not problems:
                return None
            return await self._engine.reopen(state, problems)

    async def _run_new(self, state: ProcessState) -> ProcessState:
        # One new order per customer at a time: the credit check reads the open orders, so two
        # running side by side would each spend the same remaining credit.
        customer = "customer:" + self._journal.digest("customer", state.input.customer_id)
        async with (
            self._mutex(customer),
            self._process(state.id),
            hold_stock(self._stock, _skus(state)),
        ):
            state = await self._engine.forward(state)
        if state.error is not None and state.error.code == InvalidInput.code:
            raise InvalidInput(state.error.message, step=state.error.step)
        return state

    async def _resume(self, state: ProcessState) -> ProcessState:
        async with self._process(state.id), hold_stock(self._stock, _skus(state)):
            return await self._engine.resume(self._reload(state))

    async def _resume_free(self, state: ProcessState) -> ProcessState | None:
        """Resume a process unless another replica holds it now (its pass or request will)."""
        try:
            return await self._resume(state)
        except ProcessBusy:
            return None

    async def _outcome(self, state: ProcessState) -> PlaceOrderOutcome:
        order = None
        if state.crm_order_id is not None:
            try:
                order = (await self._crm.get_orders([state.crm_order_id])).get(state.crm_order_id)
            except BackendError:
                order = None  # the process outcome stands; the order view waits for the CRM
        return PlaceOrderOutcome(
            state.id, state.status, order, state.approval, state.reservations, state.error
        )

    def _new_state(
        self, order: OrderInput, key: str, fingerprint: str, subject: str | None
    ) -> ProcessState:
        now = self._clock()
        return ProcessState(uuid.uuid4().hex, key, fingerprint, order, now, now, placed_by=subject)

    def _find(self, id: str) -> ProcessState:
        state = self._journal.load(id) or self._journal.find_by_order(id)
        if state is None:
            raise NotFound(f"no order process for id {id!r} (give an order id or a process id)")
        return state

    def _reload(self, state: ProcessState) -> ProcessState:
        return self._journal.load(state.id) or state

    def _mutex(self, name: str) -> AbstractAsyncContextManager[object]:
        """One holder of `name` at a time (across replicas with shared state)."""
        return self._stock.hold([name])

    @asynccontextmanager
    async def _process(self, process_id: str) -> AsyncIterator[None]:
        """The process's lock, then its ownership in the journal (a lease when shared)."""
        async with self._mutex("process:" + process_id):
            with self._journal.hold(process_id):
                yield


def _skus(state: ProcessState) -> list[str]:
    return sorted({line.sku for line in state.input.lines})


def _same_caller(state: ProcessState, subject: str | None) -> bool:
    """A key replayed by another subject must not hand it someone else's process."""
    return state.placed_by is None or subject is None or state.placed_by == subject


def _check_input(order: OrderInput, key: str, limits: OrderLimits) -> None:
    if not key.strip() or len(key) > _MAX_KEY:
        raise InvalidInput(f"idempotencyKey must be 1..{_MAX_KEY} characters")
    if not order.customer_id.strip():
        raise InvalidInput("customerId is empty")
    if not order.lines or len(order.lines) > _MAX_LINES:
        raise InvalidInput(f"lines must hold 1..{_MAX_LINES} lines")
    for i, line in enumerate(order.lines):
        if not line.sku.strip():
            raise InvalidInput(f"lines[{i}].sku is empty")
    check_line_quantities(order.lines, limits)


def _canonical(order: OrderInput) -> str:
    lines = [[line.sku, str(line.quantity.normalize())] for line in order.lines]
    currency = order.currency.upper() if order.currency else None
    return json.dumps([order.customer_id, lines, order.notes, currency])
