"""ERPNext master data as reconciliation reads and repairs it: Items and Customers, in pages
and by crosswalk key, with each customer's primary address; and the two master writes a
repair makes (an Item's name and disabled flag, a Customer's name and primary address).

A page of customers costs two calls (Customer, then Address for the page's primary
addresses); customers by CRM account id cost the same per 200 ids.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from resolvers.erpnext.keyset import keyset_page
from resolvers.erpnext.mapping import (
    ADDRESS_FIELDS,
    ITEM_FIELDS,
    to_address,
    to_erp_customer,
    to_item,
)
from resolvers.erpnext.wire import Doc, FrappeWire
from resolvers.records import Address, ErpCustomer, Item, Page

MASTER_CUSTOMER_FIELDS = (
    "name",
    "customer_name",
    "custom_crm_account_id",
    "customer_primary_address",
    "tax_id",
    "disabled",
)


class ErpMasters:
    """Items and Customers of one Frappe site, read in pages or by key, and updated."""

    def __init__(self, wire: FrappeWire, *, tz: ZoneInfo, currency: str) -> None:
        self.wire = wire
        self.tz = tz
        self.currency = currency

    async def list_items(self, *, first: int, after: str | None) -> Page[Item]:
        rows, cursor = await keyset_page(self.wire, "Item", ITEM_FIELDS, first=first, after=after)
        return Page(tuple(to_item(r, tz=self.tz, currency=self.currency) for r in rows), cursor)

    async def list_customers(self, *, first: int, after: str | None) -> Page[ErpCustomer]:
        rows, cursor = await keyset_page(
            self.wire, "Customer", MASTER_CUSTOMER_FIELDS, first=first, after=after
        )
        return Page(tuple(await self._with_addresses(rows)), cursor)

    async def customers_by_crm_ids(
        self, crm_account_ids: Sequence[str]
    ) -> dict[str, list[ErpCustomer]]:
        """Every ERP customer per CRM account id (a key with none is absent)."""
        rows = await self.wire.in_list(
            "Customer", "custom_crm_account_id", crm_account_ids, MASTER_CUSTOMER_FIELDS
        )
        wanted = set(crm_account_ids)
        result: dict[str, list[ErpCustomer]] = defaultdict(list)
        for customer in await self._with_addresses(rows):
            if customer.crm_account_id in wanted:  # `in` follows the collation: re-check
                result[customer.crm_account_id].append(customer)
        return dict(result)

    async def _with_addresses(self, rows: Sequence[Doc]) -> list[ErpCustomer]:
        names = [
            str(r["customer_primary_address"]) for r in rows if r.get("customer_primary_address")
        ]
        places = await self.wire.in_list("Address", "name", names, ADDRESS_FIELDS)
        place_of = {str(p.get("name")): to_address(p) for p in places}
        return [
            to_erp_customer(r, place_of.get(str(r.get("customer_primary_address") or "")))
            for r in rows
        ]

    async def update_item(self, sku: str, *, item_name: str, disabled: bool) -> Item:
        doc = await self.wire.update(
            "Item", sku, {"item_name": item_name, "disabled": int(disabled)}
        )
        return to_item(doc, tz=self.tz, currency=self.currency)

    async def update_customer(
        self, name: str, *, customer_name: str, address: Address | None = None
    ) -> ErpCustomer:
        """Rename the customer (its `customer_name`; the document name stays) and, when
        `address` is given, rewrite its primary address's fields."""
        doc = await self.wire.update("Customer", name, {"customer_name": customer_name})
        primary = doc.get("customer_primary_address")
        place = None
        if address is not None and primary:
            place = to_address(
                await self.wire.update("Address", str(primary), _address_doc(address))
            )
        return to_erp_customer(doc, place)


def _address_doc(address: Address) -> dict[str, str | None]:
    return {
        "address_line1": address.street,
        "address_line2": None,
        "city": address.city,
        "state": address.region,
        "pincode": address.postal_code,
        "country": address.country,
    }
