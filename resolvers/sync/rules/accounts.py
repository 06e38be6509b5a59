"""Rule 1: a CRM Account created or edited → its ERP Customer (name, billing and shipping
address), created when missing; found through the crosswalk `custom_crm_account_id`.

Addresses are compared in canonical form (ISO country) and written in ERPNext's (Frappe's
Country name, an `Address` of type Billing or Shipping linked to the customer). ERPNext
needs a street, a city and a country for an address: an incomplete one is reported, not sent.
"""

from __future__ import annotations

from resolvers.records import Address, Customer, ErpAddress, ErpCustomer

from ..change import Change
from .base import Applied, RuleContext, Snapshot, Write
from .settings import AccountRule

KINDS = (("Billing", "billing_address"), ("Shipping", "shipping_address"))


class AccountToCustomer:
    name = "account_to_customer"

    def __init__(self, settings: AccountRule) -> None:
        self.settings = settings

    def applies(self, change: Change) -> bool:
        return change.system == "crm" and change.entity == "account"

    async def apply(self, ctx: RuleContext, change: Change, current: Snapshot) -> Applied:
        account = current.record
        if not isinstance(account, Customer):
            gone = f"CRM account {change.record_id} is gone; its ERP customer is kept"
            return Applied(self.name, note=gone)
        async with ctx.lock(f"erp:customer:{account.id}"):
            customer, writes = await self._customer(ctx, account)
            if customer is None:
                return Applied(self.name, note="no ERP customer (create_missing is off)")
            notes: list[str] = []
            if self.settings.addresses:
                writes += await self._addresses(ctx, account, customer, notes)
        done = "; ".join(w.what for w in writes) or f"ERP customer {customer.name} in step"
        return Applied(self.name, tuple(writes), "; ".join([done, *notes]))

    async def _customer(
        self, ctx: RuleContext, account: Customer
    ) -> tuple[ErpCustomer | None, list[Write]]:
        customer = await ctx.scm.find_customer(account.id)
        if customer is None:
            if not self.settings.create_missing:
                return None, []
            customer = await ctx.scm.create_customer(
                customer_name=account.name, crm_account_id=account.id
            )
            return customer, [_write(customer.name, f"ERP customer {customer.name} created")]
        if customer.customer_name != account.name:
            customer = await ctx.scm.update_customer(customer.name, customer_name=account.name)
            return customer, [_write(customer.name, f"ERP customer {customer.name} renamed")]
        return customer, []

    async def _addresses(
        self, ctx: RuleContext, account: Customer, customer: ErpCustomer, notes: list[str]
    ) -> list[Write]:
        existing = await ctx.scm.customer_addresses(customer.name)
        writes = []
        for kind, attribute in KINDS:
            wanted: Address | None = getattr(account, attribute)
            if wanted is None:
                continue
            missing = [p for p in ("street", "city", "country") if not getattr(wanted, p)]
            if missing:
                notes.append(f"{kind.lower()} address lacks {', '.join(missing)}: not sent")
                continue
            write = await _save(ctx, customer, kind, wanted, existing.get(kind))
            if write is not None:
                writes.append(write)
        return writes


async def _save(
    ctx: RuleContext, customer: ErpCustomer, kind: str, wanted: Address, found: ErpAddress | None
) -> Write | None:
    if found is not None and found.address == wanted:
        return None
    saved = await ctx.scm.save_address(
        customer.name,
        kind=kind,
        title=customer.customer_name,
        address=wanted,
        name=found.name if found else None,
    )
    verb = "updated" if found else "created"
    return Write("erp", "customer", customer.name, f"{kind.lower()} address {saved.name} {verb}")


def _write(name: str, what: str) -> Write:
    return Write("erp", "customer", name, what)
