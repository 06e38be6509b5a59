"""A finding: one disagreement between the CRM and the ERP, with what shows it and the fix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


class Severity(Enum):
    """How much the disagreement costs if left: `error` breaks orders or money, `warning`
    misleads people, `info` is untidy."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    category: str
    severity: Severity
    summary: str  # one line a data steward reads
    fix: str  # what should be done, and by whom
    crm: Mapping[str, str] = field(default_factory=dict)  # e.g. {"product": "<Zoho id>"}
    erp: Mapping[str, str] = field(default_factory=dict)  # e.g. {"shipment": "SHIPMENT-00001"}
    values: Mapping[str, str | None] = field(default_factory=dict)  # the evidence

    @property
    def id(self) -> str:
        """Stable across runs for the same disagreement: category and the records involved."""
        sides = [f"crm.{k}={v}" for k, v in sorted(self.crm.items())]
        sides += [f"erp.{k}={v}" for k, v in sorted(self.erp.items())]
        return f"{self.category}:{','.join(sides)}"

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "category": self.category,
            "severity": self.severity.value,
            "summary": self.summary,
            "fix": self.fix,
            "crm": dict(self.crm),
            "erp": dict(self.erp),
            "values": dict(self.values),
        }
