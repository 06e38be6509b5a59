"""The sync rules: what a change in one system writes in the other (issue 16).

    rules = build_rules(RuleSettings())       # the enabled ones, in the order they run
    applied = await rule.apply(ctx, change, snapshot)

1. `account_to_customer`       CRM account → ERP customer name and addresses (created)
2. `product_to_item`           CRM product → ERP item fields (created); ERP orphans reported
3. `shipment_to_order_status`  ERP shipment → CRM order Status (shipped, delivered)
4. `order_cancelled`           CRM order Cancelled → the process's cancel (mirror, reservation)
5. `order_approved`            CRM order Approved → the process's approval (mirror, reservation)
6. `stock_below_reorder`       ERP stock → `below_reorder_level` on the event only
"""

from __future__ import annotations

from .accounts import AccountToCustomer
from .base import Applied, Locks, Rule, RuleContext, Snapshot, Write, fingerprint
from .orders import OrderApproved, OrderCancelled
from .products import ProductToItem
from .settings import RULE_NAMES, RuleSettings
from .shipments import ShipmentToOrderStatus
from .stock import BELOW_REORDER_LEVEL, StockBelowReorder


def build_rules(settings: RuleSettings) -> list[Rule]:
    """The enabled rules, each with its settings."""
    candidates: list[tuple[bool, Rule]] = [
        (settings.account_to_customer.enabled, AccountToCustomer(settings.account_to_customer)),
        (settings.product_to_item.enabled, ProductToItem(settings.product_to_item)),
        (
            settings.shipment_to_order_status.enabled,
            ShipmentToOrderStatus(settings.shipment_to_order_status),
        ),
        (settings.order_cancelled.enabled, OrderCancelled()),
        (settings.order_approved.enabled, OrderApproved()),
        (settings.stock_below_reorder.enabled, StockBelowReorder(settings.stock_below_reorder)),
    ]
    return [rule for enabled, rule in candidates if enabled]


__all__ = [
    "BELOW_REORDER_LEVEL",
    "RULE_NAMES",
    "Applied",
    "Locks",
    "Rule",
    "RuleContext",
    "RuleSettings",
    "Snapshot",
    "Write",
    "build_rules",
    "fingerprint",
]
