"""Finding one finding again on fresh data, by its id: the bundle it is about is read by its
keys (not a whole scan) and the same rule is applied. A repair starts here, so it never acts
on what a run saw an hour ago; None means the finding is gone.

    finding = await recheck(reconciler, "drift.product_differs:SKU-00001")
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from resolvers.errors import InvalidInput

from .bundles import LIVE, CustomerPair, ProductPair
from .engine import Reconciler
from .findings import Finding, split_id
from .rules import ALL_RULES, counterparts, drift, mirrors, processes, shipments
from .scans import order_bundles

Recheck = Callable[[Reconciler, tuple[str, ...]], Awaitable[list[Finding]]]


async def recheck(reconciler: Reconciler, finding_id: str) -> Finding | None:
    """The finding with this id as the systems show it now, or None when it is gone.
    InvalidInput for an id no rule issues; NotRecheckable for rules that are never repaired."""
    rule_id, key = split_id(finding_id)
    if rule_id not in ALL_RULES:
        raise InvalidInput(f"{finding_id[:80]!r} is not a reconciliation finding id")
    check = _CHECKS.get(rule_id)
    if check is None:
        raise NotRecheckable(rule_id)
    if not key or not all(key):
        raise InvalidInput(f"{finding_id[:80]!r} names no record")
    found = await check(reconciler, key)
    return next((f for f in found if f.id == finding_id), None)


class NotRecheckable(InvalidInput):
    """A rule whose findings Crossdock never repairs (duplicates, reservations, …)."""

    def __init__(self, rule_id: str) -> None:
        super().__init__(f"findings of {rule_id} are not repaired by Crossdock")
        self.rule_id = rule_id


def _order_at(position: int) -> Recheck:
    """Findings about one CRM order, whose id is `key[position]`."""

    async def check(reconciler: Reconciler, key: tuple[str, ...]) -> list[Finding]:
        return await _order(reconciler, key[position])

    return check


async def _order(reconciler: Reconciler, order_id: str) -> list[Finding]:
    orders = await reconciler.crm.get_orders([order_id])
    if order_id not in orders:
        return []
    bundles = await order_bundles(
        reconciler.scm, [orders[order_id]], with_lines=True, with_shipments=True
    )
    ctx = reconciler.context()
    return [
        finding
        for bundle in bundles
        for finding in (
            *mirrors.check_order(bundle, ctx),
            *shipments.check_order(bundle),
            *drift.order_lines(bundle),
        )
    ]


async def _orphan(reconciler: Reconciler, key: tuple[str, ...]) -> list[Finding]:
    name, order_id = key[0], key[-1]
    if await reconciler.crm.get_orders([order_id]):
        return []
    found = await reconciler.scm.mirrors_by_crm_ids([order_id], with_lines=False)
    live = [m for m in found.get(order_id, ()) if m.name == name and m.docstatus in LIVE]
    return [finding for mirror in live for finding in mirrors.orphan_mirror(mirror)]


async def _account(reconciler: Reconciler, key: tuple[str, ...]) -> list[Finding]:
    crm, scm = reconciler.crm, reconciler.scm
    account = (await crm.get_accounts([key[0]], with_email=False)).get(key[0])
    if account is None:
        return []
    customers = (await scm.customers_by_crm_ids([account.id])).get(account.id, [])
    if customers:
        return drift.customer(CustomerPair(account, tuple(customers)))
    orders = (await crm.orders_by_accounts([account.id])).get(account.id, [])
    return counterparts.account_without_customer(account, orders)


async def _product(reconciler: Reconciler, key: tuple[str, ...]) -> list[Finding]:
    sku = key[0]
    product = (await reconciler.crm.products_by_sku([sku])).get(sku)
    item = (await reconciler.scm.get_items([sku])).get(sku)
    pair = ProductPair(sku, product, item)
    return [*counterparts.product_without_item(pair), *drift.product(pair)]


async def _process(reconciler: Reconciler, key: tuple[str, ...]) -> list[Finding]:
    journal = reconciler.processes
    state = journal.load(key[0]) if journal is not None else None
    if state is None:
        return []
    order_id = state.crm_order_id
    order = (await reconciler.crm.get_orders([order_id])).get(order_id) if order_id else None
    live = {}
    if order_id:
        live = await reconciler.scm.mirrors_by_crm_ids([order_id], with_lines=False)
    return [
        *processes.needs_attention(state),
        *processes.live_after_end(state, order, live.get(order_id or "", ())),
    ]


_CHECKS: dict[str, Recheck] = {
    **{
        rule.id: _order_at(0)
        for rule in (*mirrors.RULES, *shipments.RULES, drift.ORDER_LINES)
        if rule is not shipments.SHIPMENT_WITHOUT_ORDER  # no order to read; never repaired
    },
    shipments.SHIPMENT_FOR_CANCELLED.id: _order_at(-1),
    mirrors.MIRROR_WITHOUT_ORDER.id: _orphan,
    counterparts.ACCOUNT_WITHOUT_CUSTOMER.id: _account,
    drift.CUSTOMER.id: _account,
    counterparts.PRODUCT_WITHOUT_ITEM.id: _product,
    drift.PRODUCT.id: _product,
    **{rule.id: _process for rule in processes.RULES},
}
