"""The `[saga]` settings section: the order process (placeOrder) and its encrypted journal.

[saga]
enabled = true                        # false: no order mutations, no journal
journal_path = "var/orders.sqlite"    # CROSSDOCK_JOURNAL_PATH
journal_key = "…"                     # CROSSDOCK_JOURNAL_KEY (base64 of 32 bytes); prefer env
delivery_lead_days = 7
settle_s = 2.0                        # read back a write whose outcome is unknown, this long
watch_s = 900.0                       # re-read ended processes that had such a write
resolve_interval_s = 5.0              # background resolver pass (0: start-up recovery only)
recovery_wait_s = 5.0                 # requests wait this long for a process under recovery
on_short_reservation = "release"      # or "hold": what to do when the ERP reserves less
[saga.approval]                       # see resolvers.saga.approval.ApprovalRules
max_auto_approve_total = "10000"
[saga.limits]                         # see resolvers.saga.quantities.OrderLimits
max_line_quantity = 10000
max_order_value = "1000000"
quantity_decimals = 3
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.settings.section import Section, SettingsError, Table
from resolvers.saga import ApprovalRules, SagaSettings
from resolvers.saga.outcomes import Patience
from resolvers.saga.quantities import OrderLimits
from resolvers.saga.reservation import SHORT_POLICIES, ShortPolicy
from resolvers.saga.sealing import KEY_ENV
from resolvers.saga.settings import DEFAULT_PATH

PATH_ENV = "CROSSDOCK_JOURNAL_PATH"
_KNOWN = (
    "enabled",
    "journal_path",
    "journal_key",
    "delivery_lead_days",
    "approval",
    "limits",
    "on_short_reservation",
    "settle_s",
    "watch_s",
    "resolve_interval_s",
    "recovery_wait_s",
)
_SECONDS = {"settle_s": 2.0, "watch_s": 900.0, "resolve_interval_s": 5.0, "recovery_wait_s": 5.0}


def parse_saga(table: Table, env: Mapping[str, str]) -> SagaSettings:
    """The `[saga]` section; unknown keys and bad values are SettingsErrors naming the key."""
    s = Section("saga", table, env)
    enabled = s.flag("enabled", True)
    for key in _KNOWN[1:]:
        s.raw(key)
    s.check_unknown()
    approval, limits = s.table_of("approval"), s.table_of("limits")
    lead = table.get("delivery_lead_days", 7)
    if not isinstance(lead, int) or lead < 0:
        raise SettingsError("saga.delivery_lead_days must be a non-negative integer")
    seconds = {key: _seconds(table, key, default) for key, default in _SECONDS.items()}
    return SagaSettings(
        enabled=enabled,
        journal_path=str(env.get(PATH_ENV) or table.get("journal_path", DEFAULT_PATH)),
        journal_key=env.get(KEY_ENV) or table.get("journal_key"),
        rules=_approval(approval),
        delivery_lead_days=lead,
        patience=Patience(settle_s=seconds["settle_s"], watch_s=seconds["watch_s"]),
        resolve_interval_s=seconds["resolve_interval_s"],
        recovery_wait_s=seconds["recovery_wait_s"],
        limits=_limits(limits),
        on_short_reservation=_short_policy(table.get("on_short_reservation", "release")),
    )


def _seconds(table: Table, key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 86400:
        raise SettingsError(f"saga.{key} must be a number of seconds in [0, 86400], got {value!r}")
    return float(value)


def _short_policy(value: Any) -> ShortPolicy:
    for policy in SHORT_POLICIES:
        if value == policy:
            return policy
    raise SettingsError(
        f"saga.on_short_reservation must be one of {list(SHORT_POLICIES)}, got {value!r}"
    )


def _approval(table: Table) -> ApprovalRules:
    try:
        return ApprovalRules.from_mapping(table)
    except ValueError as exc:
        raise SettingsError(f"saga.approval: {exc}") from None


def _limits(table: Table) -> OrderLimits:
    try:
        return OrderLimits.from_mapping(table)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def missing_key_error() -> SettingsError:
    return SettingsError(
        f"saga.journal_key is missing (set {KEY_ENV} or [saga] journal_key to the base64 of 32 "
        "random bytes, or set [saga] enabled = false to run without the order process)"
    )
