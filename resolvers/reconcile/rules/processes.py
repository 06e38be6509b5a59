"""Category 7, order processes: a process the journal shows as stuck, or ended while one of
the systems still shows its side effects.

- process_needs_attention (error): the process is NEEDS_ATTENTION (an undo or the CRM approval
  failed). The repair runs the resolver's pass for it, forward or back, as the background
  resolver does.
- process_live_after_end (error): the process is FAILED, CANCELLED or REJECTED but its CRM order
  exists and is not Cancelled, or one of its ERP mirrors is a draft or submitted. The repair
  reopens it and compensates again.
"""

from __future__ import annotations

from collections.abc import Sequence

from resolvers.records import ErpOrder, Order, OrderStatus
from resolvers.saga.state import ProcessState, ProcessStatus

from ..bundles import LIVE, docstatus_name
from ..findings import Category, Difference, Finding, Fix, RecordRef, Rule, Severity

NEEDS_ATTENTION = Rule(
    Category.PROCESSES,
    "process_needs_attention",
    Severity.ERROR,
    "An order process is NEEDS_ATTENTION.",
)
LIVE_AFTER_END = Rule(
    Category.PROCESSES,
    "process_live_after_end",
    Severity.ERROR,
    "An ended (failed, cancelled, rejected) order process still has a live CRM order or "
    "ERP mirror.",
)
RULES = (NEEDS_ATTENTION, LIVE_AFTER_END)
ENDED = (ProcessStatus.FAILED, ProcessStatus.CANCELLED, ProcessStatus.REJECTED)


def needs_attention(state: ProcessState) -> list[Finding]:
    if state.status is not ProcessStatus.NEEDS_ATTENTION:
        return []
    reason = state.attention or state.error
    why = f"{reason.step}: {reason.message}" if reason else "no reason recorded"
    refs = [RecordRef("crossdock", "process", state.id, state.status.value)]
    if state.crm_order_id:
        refs.append(RecordRef("crm", "order", state.crm_order_id, None))
    if state.erp_order:
        refs.append(RecordRef("erp", "sales_order", state.erp_order, None))
    return [
        Finding(
            NEEDS_ATTENTION,
            (state.id,),
            f"Order process {state.id} needs attention ({why}).",
            tuple(refs),
            Fix(
                "Run the resolver for this process: it finishes it forward (a CRM approval "
                "that did not land) or back (an undo that failed), reading both systems first.",
                repair="resolve_process",
                targets=(state.id,),
            ),
            (Difference("process.status", None, state.status.value),),
        )
    ]


def live_after_end(
    state: ProcessState, order: Order | None, mirrors: Sequence[ErpOrder]
) -> list[Finding]:
    if state.status not in ENDED:
        return []
    differences = []
    refs = [RecordRef("crossdock", "process", state.id, state.status.value)]
    if order is not None and order.status is not OrderStatus.CANCELLED:
        differences.append(Difference("order.status", order.status.value, None))
        refs.append(RecordRef("crm", "order", order.id, f"{order.number} ({order.status.value})"))
    live = [m for m in mirrors if m.docstatus in LIVE]
    for mirror in live:
        differences.append(Difference(f"mirror[{mirror.name}]", None, docstatus_name(mirror)))
        refs.append(RecordRef("erp", "sales_order", mirror.name, docstatus_name(mirror)))
    if not differences:
        return []
    shown = "; ".join(f"{d.field} {d.crm or d.erp}" for d in differences)
    return [
        Finding(
            LIVE_AFTER_END,
            (state.id,),
            f"Order process {state.id} is {state.status.value} but its side effects are live: "
            f"{shown}.",
            tuple(refs),
            Fix(
                "Reopen the process and compensate again (cancel the mirror, cancel the CRM "
                "order), re-reading both systems afterwards.",
                repair="reopen_process",
                targets=(state.id,),
            ),
            tuple(differences),
        )
    ]
