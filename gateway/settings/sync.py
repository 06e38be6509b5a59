"""The `[sync]` section: the durable inbox, its processor, and the sync rules (issue 16).

[sync]
enabled = false                     # true: run the processor (the rules write both systems)
inbox_path = "var/sync.sqlite"      # CROSSDOCK_SYNC_INBOX_PATH
lease_s = 60                        # a claimed change is taken over after this (crash)
batch = 20                          # changes (of distinct records) processed side by side
idle_s = 5                          # look for due retries at least this often
[sync.retry]                        # a failing change: retried, then parked dead
attempts = 5
base_s = 2                          # delay before retry n: base_s * factor**(n-1), ≤ max_s
factor = 4
max_s = 600
[sync.rules.account_to_customer]    # each rule: enabled = true|false, and its knobs
create_missing = true
addresses = true
[sync.rules.product_to_item]
create_missing = true
report_orphan_items = true
uoms = { Each = "Nos", Pieces = "Nos" }   # CRM Usage_Unit → ERP UOM (added to the defaults)
[sync.rules.shipment_to_order_status]
shipped_status = ""                 # the CRM Status picklist value for shipped ("": leave)
delivered_status = "Delivered"
[sync.rules.order_cancelled]
[sync.rules.order_approved]
[sync.rules.stock_below_reorder]
default_level = 0                   # 0: none; a SKU's CRM Reorder_Level applies before it
levels = { "SKU-1" = 25 }
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from gateway.settings.section import Section, SettingsError, Table
from resolvers.sync.inbox import Backoff
from resolvers.sync.rules.settings import (
    DEFAULT_UOMS,
    RULE_NAMES,
    AccountRule,
    ProductRule,
    RuleSettings,
    ShipmentRule,
    StockRule,
    Switch,
)

PATH_ENV = "CROSSDOCK_SYNC_INBOX_PATH"


@dataclass(frozen=True)
class SyncSettings:
    """The `[sync]` section, validated."""

    enabled: bool = False
    inbox_path: str = "var/sync.sqlite"
    lease_s: float = 60.0
    batch: int = 20
    idle_s: float = 5.0
    retry: Backoff = field(default_factory=Backoff)
    rules: RuleSettings = field(default_factory=RuleSettings)


def parse_sync(table: Table, env: Mapping[str, str]) -> SyncSettings:
    s = Section("sync", table, env)
    result = SyncSettings(
        enabled=s.flag("enabled", False),
        inbox_path=s.text("inbox_path", "var/sync.sqlite", env=PATH_ENV),
        lease_s=s.number("lease_s", 60.0),
        batch=s.integer("batch", 20, low=1),
        idle_s=s.number("idle_s", 5.0),
        retry=_retry(Section("sync.retry", s.table_of("retry"), env)),
        rules=_rules(s.table_of("rules"), env),
    )
    s.check_unknown()
    if result.lease_s <= 0:
        raise SettingsError("sync.lease_s must be more than 0 seconds")
    return result


def _retry(s: Section) -> Backoff:
    result = Backoff(
        attempts=s.integer("attempts", 5, low=1),
        base_s=s.number("base_s", 2.0),
        factor=s.number("factor", 4.0),
        max_s=s.number("max_s", 600.0),
    )
    s.check_unknown()
    return result


def _rules(table: Table, env: Mapping[str, str]) -> RuleSettings:
    unknown = sorted(set(table) - set(RULE_NAMES))
    if unknown:
        raise SettingsError(
            f"unknown sync rule(s) {', '.join(unknown)} (known: {', '.join(RULE_NAMES)})"
        )
    sections = {name: Section(f"sync.rules.{name}", _sub(table, name), env) for name in RULE_NAMES}
    rules = RuleSettings(
        account_to_customer=_account(sections["account_to_customer"]),
        product_to_item=_product(sections["product_to_item"]),
        shipment_to_order_status=_shipment(sections["shipment_to_order_status"]),
        order_cancelled=Switch(sections["order_cancelled"].flag("enabled", True)),
        order_approved=Switch(sections["order_approved"].flag("enabled", True)),
        stock_below_reorder=_stock(sections["stock_below_reorder"]),
    )
    for section in sections.values():
        section.check_unknown()
    return rules


def _sub(table: Table, name: str) -> Table:
    value = table.get(name, {})
    if not isinstance(value, Mapping):
        raise SettingsError(f"[sync.rules.{name}] must be a table")
    return value


def _account(s: Section) -> AccountRule:
    return AccountRule(
        enabled=s.flag("enabled", True),
        create_missing=s.flag("create_missing", True),
        addresses=s.flag("addresses", True),
    )


def _product(s: Section) -> ProductRule:
    uoms = {**DEFAULT_UOMS, **_texts(s, "uoms")}
    return ProductRule(
        enabled=s.flag("enabled", True),
        create_missing=s.flag("create_missing", True),
        uoms=uoms,
        report_orphan_items=s.flag("report_orphan_items", True),
    )


def _shipment(s: Section) -> ShipmentRule:
    return ShipmentRule(
        enabled=s.flag("enabled", True),
        shipped_status=s.optional_text("shipped_status"),
        delivered_status=s.optional_text("delivered_status")
        if "delivered_status" in s.table
        else "Delivered",
    )


def _stock(s: Section) -> StockRule:
    default = _decimal(s, "default_level", s.raw("default_level"))
    levels = {sku: _decimal(s, f"levels.{sku}", v) for sku, v in s.table_of("levels").items()}
    return StockRule(
        enabled=s.flag("enabled", True),
        default_level=default or None,
        levels={sku: level for sku, level in levels.items() if level is not None},
    )


def _texts(s: Section, key: str) -> dict[str, str]:
    found = s.table_of(key)
    bad = [k for k, v in found.items() if not isinstance(v, str) or not v]
    if bad:
        raise SettingsError(f"{s.name}.{key}.{bad[0]} must be a non-empty string")
    return {str(k): str(v) for k, v in found.items()}


def _decimal(s: Section, key: str, value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = Decimal(-1)
    if isinstance(value, bool) or not number.is_finite() or number < 0:
        raise SettingsError(f"{s.name}.{key} must be a number >= 0, got {value!r}")
    return number
