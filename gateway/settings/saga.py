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
from dataclasses import dataclass, field

from gateway.settings.section import Section, SettingsError, Table
from resolvers.saga import SagaSettings
from resolvers.saga.sealing import KEY_ENV

_KNOWN = (
    "enabled", "journal_path", "journal_key", "delivery_lead_days", "approval", "limits",
    "on_short_reservation", "settle_s", "watch_s", "resolve_interval_s", "recovery_wait_s",
)  # fmt: skip


@dataclass(frozen=True)
class OrderProcessSettings:
    """Whether the order process runs, and its saga settings (journal, key, approval rules)."""

    enabled: bool = True
    saga: SagaSettings = field(default_factory=SagaSettings)

    @property
    def missing_key(self) -> bool:
        return self.enabled and not self.saga.journal_key


def parse_saga(table: Table, env: Mapping[str, str]) -> OrderProcessSettings:
    """The `[saga]` section; unknown keys and bad values are SettingsErrors naming the key."""
    s = Section("saga", table, env)
    enabled = s.flag("enabled", True)
    for key in _KNOWN[1:]:
        s.raw(key)
    s.check_unknown()
    approval, limits = s.table_of("approval"), s.table_of("limits")
    values = {k: v for k, v in table.items() if k != "enabled"}
    try:
        saga = SagaSettings.from_mapping({**values, "approval": approval, "limits": limits}, env)
    except ValueError as exc:
        message = str(exc)
        where = "saga.approval: " if "approval rule" in message else ""
        raise SettingsError(f"{where}{message}") from None
    return OrderProcessSettings(enabled=enabled, saga=saga)


def missing_key_error() -> SettingsError:
    return SettingsError(
        f"saga.journal_key is missing (set {KEY_ENV} or [saga] journal_key to the base64 of 32 "
        "random bytes, or set [saga] enabled = false to run without the order process)"
    )
