"""What an approval reason may tell a caller: the figures need the scope of the data behind them.

A credit reason's amounts (total against remaining credit) let a caller work out the
customer's credit limit, which needs `finance:read`; a stock or reservation reason's details
(which SKUs are short, what was reserved) need `stock:read`. Callers without the scope get the
rule's verdict without figures. Other rules (thresholds from configuration) show as they are.

    shown = disclose(reason, principal.scopes)
    shown.message        # full, or the verdict without figures
    shown.audited        # True when finance figures were shown: the read goes to the audit log
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from .approval import Reason

FINANCE = "finance:read"
STOCK = "stock:read"
# rule -> (scope its figures need, verdict when passed, verdict when failed)
_GUARDED: dict[str, tuple[str, str, str]] = {
    "credit": (
        FINANCE,
        "the total is within the customer's remaining credit",
        f"the total does not fit the customer's credit (amounts need {FINANCE})",
    ),
    "stock": (
        STOCK,
        "every line is available in one warehouse",
        f"not every line is available now (details need {STOCK})",
    ),
    "reservation": (
        STOCK,
        "the ERP reserved every line in full",
        f"the ERP could not reserve every line in full (details need {STOCK})",
    ),
}
# The coordinate an audit line names when a credit reason's amounts were shown.
AUDITED_FIELD = "ApprovalReason.message"


@dataclass(frozen=True, slots=True)
class Shown:
    message: str
    audited: bool


def disclose(reason: Reason, scopes: Set[str]) -> Shown:
    guarded = _GUARDED.get(reason.rule)
    if guarded is None:
        return Shown(reason.message, False)
    scope, passed, failed = guarded
    if scope in scopes:
        return Shown(reason.message, scope == FINANCE)
    return Shown(passed if reason.passed else failed, False)
