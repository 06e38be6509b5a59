"""A change seen in one backend: the unit that sync receives, orders, applies and publishes.

A change is a hint, not the truth: a notification can be lost, repeated, late or out of order,
so whoever applies it reads the record's current state from its system before writing
anywhere. `version` (the record's own modification time, canonical UTC) orders the changes
of one record and makes handling idempotent per version; it is None when the hint did not
carry it (a Zoho callback names ids, not times) and is then learnt from the read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

# Which backend the change happened in.
System = Literal["crm", "erp"]

# Canonical entity names, whichever dialect reported them:
#   crm: "account" (Zoho Accounts), "product" (Products), "order" (Sales_Orders)
#   erp: "customer" (Customer), "item" (Item), "sales_order" (Sales Order),
#        "shipment" (Shipment), "stock" (Bin: record_id is "<item_code>@<warehouse>")
Entity = Literal[
    "account", "product", "order", "customer", "item", "sales_order", "shipment", "stock"
]

Operation = Literal["insert", "update", "delete"]

# How the change arrived: a backend's notification, or the catch-up poll by watermark.
Origin = Literal["notification", "poll"]


@dataclass(frozen=True, slots=True)
class Change:
    system: System
    entity: Entity
    record_id: str  # the backend's own id: Zoho record id, Frappe document name
    operation: Operation
    origin: Origin
    received_at: datetime  # aware, UTC
    version: datetime | None = None  # the record's modification time (aware, UTC) if known
    # the fields the notification said changed, with values when it sent them (a hint only)
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[System, Entity, str]:
        """The record this change is about: changes of one key apply in version order."""
        return (self.system, self.entity, self.record_id)


class ChangeSink(Protocol):
    """Where receivers put changes (the durable inbox). `put` returns once the change is
    stored durably, and False when this exact change (key and version) was stored before."""

    async def put(self, change: Change) -> bool: ...
