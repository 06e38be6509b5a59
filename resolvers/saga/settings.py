"""Settings of the order process: where the journal lives, its key, the approval rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .approval import ApprovalRules
from .journal import Journal
from .quantities import OrderLimits
from .reservation import SHORT_POLICIES, ShortPolicy
from .sealing import KEY_ENV, Sealer

PATH_ENV = "CROSSDOCK_JOURNAL_PATH"
_DEFAULT_PATH = "crossdock-orders.sqlite"


@dataclass(frozen=True, slots=True)
class SagaSettings:
    """The `[saga]` section. The key comes from the environment or the file, never the repo.

    Example (crossdock.toml)::

        [saga]
        journal_path = "/var/lib/crossdock/orders.sqlite"
        delivery_lead_days = 7
        [saga.approval]
        require_credit = true
        require_stock = true
        max_auto_approve_total = "10000"
        [saga.limits]
        max_line_quantity = 10000
        max_order_value = "1000000"
    """

    journal_path: str = _DEFAULT_PATH
    journal_key: str | None = field(default=None, repr=False)
    rules: ApprovalRules = field(default_factory=ApprovalRules)
    delivery_lead_days: int = 7
    limits: OrderLimits = field(default_factory=OrderLimits)
    on_short_reservation: ShortPolicy = "release"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], environ: Mapping[str, str]) -> SagaSettings:
        lead = values.get("delivery_lead_days", 7)
        if not isinstance(lead, int) or lead < 0:
            raise ValueError("saga.delivery_lead_days must be a non-negative integer")
        short = values.get("on_short_reservation", "release")
        if short not in SHORT_POLICIES:
            raise ValueError(
                f"saga.on_short_reservation must be one of {list(SHORT_POLICIES)}, got {short!r}"
            )
        return cls(
            journal_path=str(environ.get(PATH_ENV) or values.get("journal_path", _DEFAULT_PATH)),
            journal_key=environ.get(KEY_ENV) or values.get("journal_key"),
            rules=ApprovalRules.from_mapping(values.get("approval", {})),
            delivery_lead_days=lead,
            limits=OrderLimits.from_mapping(values.get("limits", {})),
            on_short_reservation=short,
        )

    def open_journal(self) -> Journal:
        """Open the journal; a missing or malformed key fails here, at start-up."""
        return Journal(self.journal_path, Sealer.from_base64(self.journal_key))
