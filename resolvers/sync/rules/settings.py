"""The sync rules' settings (`[sync.rules.*]`): each rule on or off, and its knobs.

Parsed by gateway.settings.sync; the defaults are what ships.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

# Zoho's stock `Usage_Unit` picklist values that ERPNext names differently (the stock UOMs
# of a new site); a unit not listed is written as the CRM spells it.
DEFAULT_UOMS: Mapping[str, str] = {
    "Each": "Nos",
    "Pieces": "Nos",
    "Quantity": "Nos",
    "Hours": "Hour",
    "Lb": "Pound",
    "Sq Ft": "Square Foot",
}


@dataclass(frozen=True, slots=True)
class AccountRule:
    """1. CRM Account → ERP Customer (name, billing and shipping address)."""

    enabled: bool = True
    create_missing: bool = True  # create the ERP customer of an account that has none
    addresses: bool = True


@dataclass(frozen=True, slots=True)
class ProductRule:
    """2. CRM Product → ERP Item (name, description, disabled; UOM when created)."""

    enabled: bool = True
    create_missing: bool = True  # create the item of an active product that has none
    uoms: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_UOMS))
    report_orphan_items: bool = True  # an ERP item without CRM product: reported, never deleted


@dataclass(frozen=True, slots=True)
class ShipmentRule:
    """3. ERP Shipment status → CRM Sales_Order status, as the tenant's picklist names it."""

    enabled: bool = True
    shipped_status: str | None = None  # e.g. "Shipped" where the picklist has it; None: leave
    delivered_status: str | None = "Delivered"  # when every shipment of the order is delivered


@dataclass(frozen=True, slots=True)
class Switch:
    """4. a CRM order cancelled outside Crossdock; 5. approved outside Crossdock."""

    enabled: bool = True


@dataclass(frozen=True, slots=True)
class StockRule:
    """6. Stock of a SKU below its reorder level → an event (stockChanged), no write.

    The level is `levels[sku]`, else the CRM product's Reorder_Level, else `default_level`;
    stock is the SKU's available quantity (on hand − reserved) over all warehouses."""

    enabled: bool = True
    default_level: Decimal | None = None
    levels: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleSettings:
    account_to_customer: AccountRule = field(default_factory=AccountRule)
    product_to_item: ProductRule = field(default_factory=ProductRule)
    shipment_to_order_status: ShipmentRule = field(default_factory=ShipmentRule)
    order_cancelled: Switch = field(default_factory=Switch)
    order_approved: Switch = field(default_factory=Switch)
    stock_below_reorder: StockRule = field(default_factory=StockRule)


RULE_NAMES = tuple(RuleSettings.__dataclass_fields__)
