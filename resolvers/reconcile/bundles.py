"""What the rules look at: a record with its counterparts, read together in one batch.

The scans (resolvers.reconcile.scans) build these a page at a time; the rules
(resolvers.reconcile.rules) are pure functions of them, so a repair can re-check one
finding by building the one bundle it is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from resolvers.records import CatalogProduct, Customer, ErpCustomer, ErpOrder, Item, Order, Shipment

DRAFT, SUBMITTED, CANCELLED = 0, 1, 2
LIVE = (DRAFT, SUBMITTED)


@dataclass(frozen=True, slots=True)
class Context:
    """What rules may know besides the records: the time and the thresholds."""

    now: datetime
    draft_max_age: timedelta = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class OrderBundle:
    """A CRM order, every ERP Sales Order that mirrors it, and its shipments (when read)."""

    order: Order
    mirrors: tuple[ErpOrder, ...] = ()
    shipments: tuple[Shipment, ...] | None = None

    @property
    def live(self) -> list[ErpOrder]:
        return [m for m in self.mirrors if m.docstatus in LIVE]

    @property
    def submitted(self) -> list[ErpOrder]:
        return [m for m in self.mirrors if m.docstatus == SUBMITTED]


@dataclass(frozen=True, slots=True)
class ProductPair:
    """One SKU as each system holds it (None where it is missing)."""

    sku: str
    product: CatalogProduct | None
    item: Item | None


@dataclass(frozen=True, slots=True)
class CustomerPair:
    """A CRM account and the ERP customers whose crosswalk names it."""

    account: Customer
    customers: tuple[ErpCustomer, ...] = field(default_factory=tuple)


def delivered(mirror: ErpOrder) -> bool:
    """Goods left against this mirror: it cannot simply be cancelled."""
    return mirror.per_delivered > 0 or any(line.delivered > 0 for line in mirror.lines)


def docstatus_name(mirror: ErpOrder) -> str:
    return {DRAFT: "draft", SUBMITTED: "submitted", CANCELLED: "cancelled"}.get(
        mirror.docstatus, str(mirror.docstatus)
    )
