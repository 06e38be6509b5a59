"""What `object/describe` tells the connector: the order-status options and the custom fields.

Fields are tenant-specific (◐ [X-AE data-model]), so before the first order read or write the
connector reads SalesOrderObj's describe once (single-flight), checks that the configured
custom fields exist, and learns the status field's option values and labels.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from resolvers.errors import BackendRejected
from resolvers.fxiaoke.options import FxiaokeOptions
from resolvers.fxiaoke.wire import FxWire

DESCRIBE = "/cgi/crm/v2/object/describe"


@dataclass(frozen=True)
class OrderVocabulary:
    labels: Mapping[str, str]  # status option value -> label

    def value_of(self, label: str) -> str:
        """The option value for a status label ("Approved" → "approved")."""
        for value, known in self.labels.items():
            if known == label or value == label:
                return value
        raise BackendRejected(
            f"Fxiaoke's order status field has no option labelled {label!r} (it has "
            f"{', '.join(sorted(self.labels.values()))}); fix the field's options or "
            "crm.order_statuses",
            system="crm",
        )


class Vocabulary:
    """Reads SalesOrderObj's describe once per connector."""

    def __init__(self, wire: FxWire, options: FxiaokeOptions) -> None:
        self.wire, self.options = wire, options
        self._orders: OrderVocabulary | None = None
        self._lock = asyncio.Lock()

    async def orders(self) -> OrderVocabulary:
        if self._orders is None:
            async with self._lock:
                if self._orders is None:
                    self._orders = await self._read()
        return self._orders

    async def _read(self) -> OrderVocabulary:
        body = await self.wire.call(DESCRIBE, top={"apiName": "SalesOrderObj"})
        fields = ((body.get("data") or {}).get("describe") or {}).get("fields")
        fields = fields if isinstance(fields, dict) else {}
        o = self.options
        wanted = {
            "order_status_field": o.order_status_field,
            "external_ref_field": o.external_ref_field,
            "tax_field": o.tax_field,
        }
        for key, name in wanted.items():
            if name is not None and name not in fields:
                raise BackendRejected(
                    f"Fxiaoke SalesOrderObj has no field {name!r} (crm.{key}); describe lists "
                    f"{', '.join(sorted(n for n in fields if n.endswith('__c')))} as custom "
                    f"fields: set crm.{key} to one of them",
                    system="crm",
                )
        status: Any = fields[o.order_status_field]
        options = status.get("options") if isinstance(status, dict) else None
        labels = {
            str(opt.get("value")): str(opt.get("label"))
            for opt in options or []
            if isinstance(opt, dict)
        }
        return OrderVocabulary(labels)
