"""Settings of the order process: where the journal lives, its key, the approval rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .approval import ApprovalRules
from .journal import Journal
from .outcomes import Patience
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

    journal_path: str = _DEFAULT_PATH
    journal_key: str | None = field(default=None, repr=False)
    rules: ApprovalRules = field(default_factory=ApprovalRules)
    delivery_lead_days: int = 7
    patience: Patience = field(default_factory=Patience)
    resolve_interval_s: float = 5.0
    recovery_wait_s: float = 5.0
    limits: OrderLimits = field(default_factory=OrderLimits)
    on_short_reservation: ShortPolicy = "release"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], environ: Mapping[str, str]) -> SagaSettings:
        lead = values.get("delivery_lead_days", 7)
        if not isinstance(lead, int) or lead < 0:
            raise ValueError("saga.delivery_lead_days must be a non-negative integer")
        seconds = {key: _seconds(values, key, default) for key, default in _SECONDS.items()}
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
            patience=Patience(settle_s=seconds["settle_s"], watch_s=seconds["watch_s"]),
            resolve_interval_s=seconds["resolve_interval_s"],
            recovery_wait_s=seconds["recovery_wait_s"],
            limits=OrderLimits.from_mapping(values.get("limits", {})),
            on_short_reservation=short,
        )

    def open_journal(self) -> Journal:
        """Open the journal; a missing or malformed key fails here, at start-up."""
        return Journal(self.journal_path, Sealer.from_base64(self.journal_key))


_SECONDS = {"settle_s": 2.0, "watch_s": 900.0, "resolve_interval_s": 5.0, "recovery_wait_s": 5.0}


def _seconds(values: Mapping[str, Any], key: str, default: float) -> float:
    value = values.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 86400:
        raise ValueError(f"saga.{key} must be a number of seconds in [0, 86400], got {value!r}")
    return float(value)
