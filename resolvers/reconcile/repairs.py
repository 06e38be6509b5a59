"""Repairs: what Crossdock can set right itself, through the same connectors as everything else.

    outcome = await repair(finding, crm, erp, apply=False)   # a dry run: nothing is written

Only `product_without_item` is repaired: the CRM product is read again, and if its SKU still
has no ERP item, the item is created from it (code, name, description, unit; enabled as the
product is active). Reading again first makes a repair idempotent: a second run, or a finding
someone already fixed by hand, writes nothing. Every other category says who must act.
"""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.ports import CrmPort, ErpPort
from resolvers.reconcile.findings import Finding

REPAIRABLE = frozenset({"product_without_item"})


@dataclass(frozen=True, slots=True)
class Repair:
    finding: str  # the finding's id
    outcome: str  # "created", "would create", "already fixed", "gone", "not repairable"
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"finding": self.finding, "outcome": self.outcome, "detail": self.detail}


async def repair(finding: Finding, crm: CrmPort, erp: ErpPort, *, apply: bool) -> Repair:
    if finding.category not in REPAIRABLE:
        return Repair(finding.id, "not repairable", finding.fix)
    sku = str(finding.values["sku"])
    product = (await crm.products_by_sku([sku])).get(sku)
    if product is None or not product.active:
        return Repair(finding.id, "gone", f"CRM product {sku} is no longer an active product")
    if sku in await erp.get_items([sku]):
        return Repair(finding.id, "already fixed", f"the ERP has an item {sku} now")
    if not apply:
        return Repair(finding.id, "would create", f"ERP item {sku} ({product.name})")
    item = await erp.create_item(product)
    return Repair(finding.id, "created", f"ERP item {item.sku} ({item.name})")
