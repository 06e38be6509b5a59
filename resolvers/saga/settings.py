"""Settings of the order process: where the journal lives, its key, the approval rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from .approval import ApprovalRules
from .journal import Journal
from .outcomes import Patience
from .quantities import OrderLimits
from .reservation import ShortPolicy
from .sealing import Sealer

DEFAULT_PATH = "crossdock-orders.sqlite"


@dataclass(frozen=True, slots=True)
class SagaSettings:
    """The `[saga]` section (parsed by gateway.settings.saga): whether the order process
    runs, its journal and key, approval rules and limits. The key comes from the environment
    or the file, never the repo.

    Example (crossdock.toml)::

        [saga]
        enabled = true              # false: no order mutations, no journal
        journal_path = "/var/lib/crossdock/orders.sqlite"
        delivery_lead_days = 7
        settle_s = 2.0              # bounded wait to read back a write whose outcome is unknown
        watch_s = 900.0             # how long ended processes with such a write are re-read
        resolve_interval_s = 5.0    # the background resolver's pass (0: recovery only)
        recovery_wait_s = 5.0       # how long a request waits for a process under recovery
        [saga.approval]
        require_credit = true
        require_stock = true
        max_auto_approve_total = "10000"
        [saga.limits]
        max_line_quantity = 10000
        max_order_value = "1000000"
    """

    enabled: bool = True
    journal_path: str = DEFAULT_PATH
    journal_key: str | None = field(default=None, repr=False)
    rules: ApprovalRules = field(default_factory=ApprovalRules)
    delivery_lead_days: int = 7
    patience: Patience = field(default_factory=Patience)
    resolve_interval_s: float = 5.0
    recovery_wait_s: float = 5.0
    limits: OrderLimits = field(default_factory=OrderLimits)
    on_short_reservation: ShortPolicy = "release"

    @property
    def missing_key(self) -> bool:
        """The process is on but has no journal key: a start-up error in production."""
        return self.enabled and not self.journal_key

    def open_journal(self) -> Journal:
        """Open the journal; a missing or malformed key fails here, at start-up."""
        return Journal(self.journal_path, Sealer.from_base64(self.journal_key))
