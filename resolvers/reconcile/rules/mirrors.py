"""Category 2, order mirrors: every approved CRM order has exactly one submitted ERP Sales
Order (`custom_crm_order_id`), and nothing else reserves for it.

- approved_without_mirror (error): a CRM order Approved or Delivered with no submitted
  mirror. A draft mirror with the order's lines is submitted by the repair; otherwise an
  approver must act.
- live_mirror_of_cancelled_order (error): a draft or submitted mirror of a Cancelled CRM
  order; repaired by cancelling (submitted) or deleting (draft) it, unless goods left.
- live_mirror_without_order (error): a draft or submitted Sales Order whose
  `custom_crm_order_id` is no CRM order; repaired the same way.
- several_live_mirrors (error): more than one draft or submitted mirror of one order; the
  repair keeps the best one (submitted, then most delivered, then oldest) and releases the rest.
- stale_draft (warning): a draft mirror older than `draft_max_age` of an order that is
  neither approved nor cancelled (the order process gave up on it); repaired by deleting it.
"""

from __future__ import annotations

from datetime import timedelta

from resolvers.records import ErpOrder, OrderStatus

from ..bundles import DRAFT, SUBMITTED, Context, OrderBundle, delivered, docstatus_name
from ..findings import Category, Difference, Finding, Fix, RecordRef, Rule, Severity

APPROVED_WITHOUT_MIRROR = Rule(
    Category.MIRRORS,
    "approved_without_mirror",
    Severity.ERROR,
    "A CRM order Approved (or later) has no submitted ERP mirror.",
)
MIRROR_OF_CANCELLED = Rule(
    Category.MIRRORS,
    "live_mirror_of_cancelled_order",
    Severity.ERROR,
    "An ERP mirror is draft or submitted while its CRM order is Cancelled.",
)
MIRROR_WITHOUT_ORDER = Rule(
    Category.MIRRORS,
    "live_mirror_without_order",
    Severity.ERROR,
    "A draft or submitted ERP sales order names a CRM order that does not exist.",
)
SEVERAL_LIVE = Rule(
    Category.MIRRORS,
    "several_live_mirrors",
    Severity.ERROR,
    "One CRM order has more than one draft or submitted ERP mirror.",
)
STALE_DRAFT = Rule(
    Category.MIRRORS,
    "stale_draft",
    Severity.WARNING,
    "A draft ERP mirror is older than the threshold and its order is not approved.",
)
RULES = (
    APPROVED_WITHOUT_MIRROR,
    MIRROR_OF_CANCELLED,
    MIRROR_WITHOUT_ORDER,
    SEVERAL_LIVE,
    STALE_DRAFT,
)
_APPROVED = (OrderStatus.APPROVED, OrderStatus.DELIVERED)
_LOGISTICS = "logistics (the warehouse that shipped against the mirror)"


def check_order(bundle: OrderBundle, ctx: Context) -> list[Finding]:
    """Every mirror rule about one CRM order and its mirrors."""
    order = bundle.order
    if order.status is OrderStatus.CANCELLED:
        return _released(bundle, MIRROR_OF_CANCELLED, "is Cancelled")
    found = _several(bundle)
    if order.status in _APPROVED and not bundle.submitted:
        found += _approved_without(bundle)
    elif not found:
        found += _stale(bundle, ctx)
    return found


def orphan_mirror(mirror: ErpOrder) -> list[Finding]:
    """A live Sales Order whose CRM order (by `custom_crm_order_id`) does not exist."""
    order_id = mirror.crm_order_id or ""
    state = docstatus_name(mirror)
    refs = (RecordRef("erp", "sales_order", mirror.name, state),)
    summary = (
        f"ERP sales order {mirror.name} ({state}) mirrors CRM order {order_id}, "
        "which does not exist"
    )
    return [
        Finding(
            MIRROR_WITHOUT_ORDER,
            (mirror.name, order_id),
            summary + _reserving(mirror),
            refs,
            _release_fix([mirror], f"the CRM order {order_id} does not exist"),
            (Difference("crm_order", None, order_id),),
        )
    ]


def _released(bundle: OrderBundle, rule: Rule, why: str) -> list[Finding]:
    live = bundle.live
    if not live:
        return []
    order = bundle.order
    names = ", ".join(f"{m.name} ({docstatus_name(m)})" for m in live)
    return [
        Finding(
            rule,
            (order.id,),
            f"CRM order {order.number} {why} but ERP sales order(s) {names} still mirror it"
            + _reserving(*live),
            (_order_ref(bundle), *(_mirror_ref(m) for m in live)),
            _release_fix(live, f"the CRM order {why.removeprefix('is ')}"),
            (Difference("status", order.status.value, ", ".join(docstatus_name(m) for m in live)),),
        )
    ]


def _several(bundle: OrderBundle) -> list[Finding]:
    live = bundle.live
    if len(live) < 2:
        return []
    keep = max(live, key=_rank)
    extra = [m for m in live if m is not keep]
    order = bundle.order
    names = ", ".join(f"{m.name} ({docstatus_name(m)})" for m in live)
    return [
        Finding(
            SEVERAL_LIVE,
            (order.id,),
            f"CRM order {order.number} has {len(live)} live ERP mirrors ({names}); only "
            f"{keep.name} should remain" + _reserving(*extra),
            (_order_ref(bundle), *(_mirror_ref(m) for m in live)),
            _release_fix(extra, f"{keep.name} already mirrors the order"),
            (Difference("mirrors", "1", str(len(live))),),
        )
    ]


def _approved_without(bundle: OrderBundle) -> list[Finding]:
    order = bundle.order
    drafts = [m for m in bundle.mirrors if m.docstatus == DRAFT and _same_lines(bundle, m)]
    if drafts:
        fix = Fix(
            f"Submit the draft mirror {drafts[0].name}, which reserves the order's stock.",
            repair="submit_draft_mirror",
            targets=(drafts[0].name,),
        )
    else:
        fix = Fix(
            "Approve the order again through Crossdock (cancelOrder, then placeOrder), or set "
            "the CRM order back to Pending Approval.",
            who="the order desk (an approver)",
            why="mirroring means choosing warehouses and reserving stock now; Crossdock does "
            "that only inside the order process, where a failure is compensated",
        )
    states = ", ".join(f"{m.name} ({docstatus_name(m)})" for m in bundle.mirrors) or "none"
    return [
        Finding(
            APPROVED_WITHOUT_MIRROR,
            (order.id,),
            f"CRM order {order.number} is {order.status.value} but has no submitted ERP mirror "
            f"(mirrors: {states}): no stock is reserved for it.",
            (_order_ref(bundle), *(_mirror_ref(m) for m in bundle.mirrors)),
            fix,
            (Difference("mirror", order.status.value, states),),
        )
    ]


def _stale(bundle: OrderBundle, ctx: Context) -> list[Finding]:
    if bundle.order.status in _APPROVED:
        return []
    cutoff = ctx.now - ctx.draft_max_age
    stale = [
        m
        for m in bundle.mirrors
        if m.docstatus == DRAFT and m.created_at is not None and m.created_at < cutoff
    ]
    if not stale:
        return []
    order = bundle.order
    first = stale[0]
    age = ctx.now - (first.created_at or ctx.now)
    return [
        Finding(
            STALE_DRAFT,
            (order.id,),
            f"Draft ERP mirror {first.name} of CRM order {order.number} "
            f"({order.status.value}) is {_hours(age)} h old: the order process that created it "
            "did not finish.",
            (_order_ref(bundle), *(_mirror_ref(m) for m in stale)),
            Fix(
                "Delete the draft mirror; the order is mirrored again when it is approved.",
                repair="release_mirrors",
                targets=tuple(m.name for m in stale),
            ),
            (Difference("mirror", order.status.value, "draft"),),
        )
    ]


def _release_fix(mirrors: list[ErpOrder], reason: str) -> Fix:
    shipped = [m.name for m in mirrors if delivered(m)]
    if shipped:
        return Fix(
            "Return the delivered goods or reinstate the CRM order, then cancel the mirror.",
            who=_LOGISTICS,
            why=f"goods were delivered against {', '.join(shipped)}; cancelling it would hide "
            "them from stock and billing",
        )
    verbs = ", ".join(
        f"{'cancel' if m.docstatus == SUBMITTED else 'delete'} {m.name}" for m in mirrors
    )
    return Fix(
        f"Release the stock: {verbs} ({reason}).",
        repair="release_mirrors",
        targets=tuple(m.name for m in mirrors),
    )


def _same_lines(bundle: OrderBundle, mirror: ErpOrder) -> bool:
    crm = sorted((line.sku, line.quantity) for line in bundle.order.lines)
    return crm == sorted((line.sku, line.quantity) for line in mirror.lines)


def _rank(mirror: ErpOrder) -> tuple[int, object, float]:
    created = mirror.created_at.timestamp() if mirror.created_at else 0.0
    return (mirror.docstatus == SUBMITTED, mirror.per_delivered, -created)


def _reserving(*mirrors: ErpOrder) -> str:
    held = [m.name for m in mirrors if m.docstatus == SUBMITTED and not delivered(m)]
    return f"; {', '.join(held)} still reserve(s) stock." if held else "."


def _order_ref(bundle: OrderBundle) -> RecordRef:
    order = bundle.order
    return RecordRef("crm", "order", order.id, f"{order.number} ({order.status.value})")


def _mirror_ref(mirror: ErpOrder) -> RecordRef:
    return RecordRef("erp", "sales_order", mirror.name, docstatus_name(mirror))


def _hours(age: timedelta) -> int:
    return int(age.total_seconds() // 3600)
