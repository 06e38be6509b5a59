"""`[sync]`: defaults, each rule switched and tuned, and errors that name the key."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from gateway.settings import SettingsError
from gateway.settings.sync import parse_sync
from resolvers.sync.rules import build_rules


def test_sync_is_off_by_default_with_every_rule_on() -> None:
    settings = parse_sync({}, {})
    assert settings.enabled is False
    assert [rule.name for rule in build_rules(settings.rules)] == [
        "account_to_customer",
        "product_to_item",
        "shipment_to_order_status",
        "order_cancelled",
        "order_approved",
        "stock_below_reorder",
    ]
    assert settings.rules.shipment_to_order_status.delivered_status == "Delivered"
    assert settings.rules.shipment_to_order_status.shipped_status is None


def test_rules_are_switched_and_tuned_from_the_table() -> None:
    settings = parse_sync(
        {
            "enabled": True,
            "retry": {"attempts": 3, "base_s": 1},
            "rules": {
                "order_approved": {"enabled": False},
                "product_to_item": {"uoms": {"Box": "Box Of 10"}},
                "shipment_to_order_status": {"shipped_status": "Shipped", "delivered_status": ""},
                "stock_below_reorder": {"default_level": 5, "levels": {"SKU-1": "2.5"}},
            },
        },
        {"CROSSDOCK_SYNC_INBOX_PATH": "/tmp/x/sync.sqlite"},
    )
    assert settings.inbox_path == "/tmp/x/sync.sqlite"
    assert (settings.retry.attempts, settings.retry.base_s) == (3, 1.0)
    names = [rule.name for rule in build_rules(settings.rules)]
    assert "order_approved" not in names
    assert settings.rules.product_to_item.uoms["Box"] == "Box Of 10"
    assert settings.rules.product_to_item.uoms["Each"] == "Nos"  # the defaults stay
    shipment = settings.rules.shipment_to_order_status
    assert (shipment.shipped_status, shipment.delivered_status) == ("Shipped", None)
    stock = settings.rules.stock_below_reorder
    assert (stock.default_level, stock.levels) == (Decimal(5), {"SKU-1": Decimal("2.5")})


@pytest.mark.parametrize(
    ("table", "names"),
    [
        ({"rules": {"acount_to_customer": {}}}, "unknown sync rule(s) acount_to_customer"),
        ({"rules": {"order_cancelled": {"enabeld": False}}}, "[sync.rules.order_cancelled]"),
        ({"retry": {"attempts": 0}}, "sync.retry.attempts"),
        ({"rules": {"stock_below_reorder": {"levels": {"A": -1}}}}, "levels.A"),
        ({"lease_s": 0}, "sync.lease_s"),
        ({"inbox": "x"}, "unknown key(s) in [sync]: inbox"),
    ],
)
def test_a_mistake_names_the_key(table: dict[str, object], names: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(names)):
        parse_sync(table, {})
