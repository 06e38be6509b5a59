"""Canonical records: what every connector returns, whatever its wire dialect.

One canonical model (DESIGN.md, "Canonical model"): timestamps are timezone-aware UTC
`datetime`s, money is a `Decimal` with an ISO 4217 currency, countries are ISO 3166-1
alpha-2 codes where the name is known, and the SKU is the product key across systems.
Records are frozen: a loader may hand one record to many resolvers. `fast_init` gives them a
cheaper `__init__` (resolvers/record_init.py); they stay frozen dataclasses.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar

from resolvers.record_init import fast_init

T = TypeVar("T")


class OrderStatus(enum.Enum):
    CREATED = "CREATED"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class FulfillmentStatus(enum.Enum):
    UNFULFILLED = "UNFULFILLED"
    RESERVED = "RESERVED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"


class ShipmentStatus(enum.Enum):
    DRAFT = "DRAFT"
    BOOKED = "BOOKED"
    IN_TRANSIT = "IN_TRANSIT"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    EXCEPTION = "EXCEPTION"


@fast_init
@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str


@fast_init
@dataclass(frozen=True, slots=True)
class Address:
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Customer:
    """A CRM account (Zoho `Accounts`), with its primary contact's email."""

    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    number: str | None = None
    industry: str | None = None
    website: str | None = None
    email: str | None = None
    phone: str | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    credit_limit: Money | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    quantity: Decimal
    unit_price: Money
    total: Money
    product_id: str | None = None  # the CRM product record id, when the line links one
    # The line's catalog product when reading the order already read it (Fxiaoke lines name
    # products by id, so the connector reads them to learn the SKUs): the graph answers the
    # line's `product` from it instead of asking the catalog again. Not part of equality.
    catalog: CatalogProduct | None = field(default=None, compare=False, repr=False)


@fast_init
@dataclass(frozen=True, slots=True)
class Order:
    """A CRM sales order (Zoho `Sales_Orders` with its `Ordered_Items`)."""

    id: str
    number: str
    status: OrderStatus
    customer_id: str | None
    lines: tuple[OrderLine, ...]
    subtotal: Money
    tax: Money
    total: Money
    placed_at: datetime
    updated_at: datetime
    external_ref: str | None = None
    subject: str | None = None
    customer_name: str | None = None  # the account's name as the order's lookup carries it


@fast_init
@dataclass(frozen=True, slots=True)
class CatalogProduct:
    """The CRM half of a product (Zoho `Products`): name, list price, active flag."""

    id: str
    sku: str
    name: str
    active: bool
    updated_at: datetime
    description: str | None = None
    uom: str | None = None
    list_price: Money | None = None
    reorder_level: Decimal | None = None  # the CRM's Reorder_Level, when it is set


@fast_init
@dataclass(frozen=True, slots=True)
class Item:
    """The ERP half of a product (ERPNext `Item`): stock unit and valuation."""

    sku: str
    name: str
    disabled: bool
    is_stock_item: bool
    updated_at: datetime
    description: str | None = None
    uom: str | None = None
    unit_cost: Money | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Warehouse:
    id: str  # ERPNext name, e.g. "Stores - AC"
    name: str  # warehouse_name, e.g. "Stores"
    company: str | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class StockLevel:
    """One ERPNext `Bin`: an item in a warehouse."""

    sku: str
    warehouse_id: str
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    projected: Decimal


@fast_init
@dataclass(frozen=True, slots=True)
class ReorderLevel:
    """One ERPNext `Item Reorder` row: below `level` (projected, in `group`), order `quantity`."""

    sku: str
    warehouse_id: str
    level: Decimal
    quantity: Decimal
    group: str  # the warehouse whose projected quantity is checked (ERPNext: the row's own)

    def below(self, stock: StockLevel) -> bool | None:
        """ERPNext's auto re-order verdict for one Bin (erpnext/stock/reorder_item.py): a row
        with a level or a quantity, and the projected quantity at or below the level. False
        without either; None when the row is checked in another warehouse (its group), whose
        tree Crossdock does not add up."""
        if not (self.level or self.quantity):
            return False
        if self.group != stock.warehouse_id:
            return None
        return stock.projected <= self.level


@fast_init
@dataclass(frozen=True, slots=True)
class ShipmentLine:
    sku: str
    quantity: Decimal


@fast_init
@dataclass(frozen=True, slots=True)
class Shipment:
    """An ERPNext `Shipment` with the items of its delivery notes."""

    id: str
    status: ShipmentStatus
    updated_at: datetime
    order_id: str | None = None  # the CRM order id (custom_crm_order_id)
    order_number: str | None = None
    carrier: str | None = None
    service: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    pickup_date: str | None = None  # a calendar date, YYYY-MM-DD
    destination: Address | None = None
    lines: tuple[ShipmentLine, ...] = ()
    value: Money | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class ErpCustomer:
    """An ERPNext `Customer` and its crosswalk to the CRM account."""

    name: str
    customer_name: str
    crm_account_id: str | None
    address: ErpAddress | None = None  # its primary address (customer_primary_address), when read
    tax_id: str | None = None
    disabled: bool = False


@fast_init
@dataclass(frozen=True, slots=True)
class ErpAddress:
    """An ERPNext `Address` linked to a customer: its kind ("Billing" or "Shipping")."""

    name: str
    kind: str
    address: Address


@fast_init
@dataclass(frozen=True, slots=True)
class ErpOrderLine:
    sku: str
    quantity: Decimal
    delivered: Decimal
    reserved: Decimal  # held for this row by Stock Reservation Entries (stock_reserved_qty); 0 is 0
    warehouse: str | None = None
    row_name: str | None = None
    rate: Decimal | None = None  # read only where asked for (reconciliation compares it)


@fast_init
@dataclass(frozen=True, slots=True)
class ErpOrder:
    """An ERPNext `Sales Order` that mirrors a CRM order (custom_crm_order_id)."""

    name: str
    crm_order_id: str | None
    docstatus: int  # 0 draft, 1 submitted, 2 cancelled
    status: str
    per_delivered: Decimal
    lines: tuple[ErpOrderLine, ...] = ()
    updated_at: datetime | None = None
    created_at: datetime | None = None  # read only where asked for
    customer: str | None = None  # the ERP Customer's name, where read


@fast_init
@dataclass(frozen=True, slots=True)
class ReservationEntry:
    """What one stock reservation of a sales order row still holds (an ERPNext submitted
    `Stock Reservation Entry`)."""

    row_name: str
    sku: str
    warehouse: str
    reserved: Decimal  # still held: reserved_qty − delivered_qty


@fast_init
@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a backend listing, with the opaque position of the next one."""

    items: tuple[T, ...]
    next_cursor: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
