"""ERPNext master data, Customers and Items: the reads reconciliation makes and the writes
the sync rules (and reconciliation's repairs) make.

`ERPNext` inherits both mixins; they use only its wire, time zone and options (`_Connector`).
Reads come in keyset pages or by crosswalk key, each customer with its primary address
(`customer_primary_address`): a page of customers costs two calls (Customer, then Address
for the page's primary addresses); customers by CRM account id cost the same per 200 ids.
Writes go out in ERPNext's form: a country as Frappe's Country name, checks as 0/1, an
address linked to its customer through a `Dynamic Link` row.

    addresses = await erp.customer_addresses("Acme Corp")   # {"Billing": ErpAddress, ...}
    await erp.save_address("Acme Corp", kind="Billing", title="Acme Corp", address=Address(...))
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from resolvers.erpnext.countries import country_name
from resolvers.erpnext.keyset import keyset_page
from resolvers.erpnext.mapping import (
    ADDRESS_FIELDS,
    CUSTOMER_FIELDS,
    ITEM_FIELDS,
    to_address,
    to_erp_customer,
    to_item,
)
from resolvers.erpnext.wire import Doc, FrappeWire
from resolvers.records import Address, ErpAddress, ErpCustomer, Item, Page

ITEM_NAME_MAX = 140  # Frappe's Data fields hold 140 characters
MASTER_CUSTOMER_FIELDS = (
    *CUSTOMER_FIELDS,
    "customer_primary_address",
    "tax_id",
    "disabled",
)
KINDED_ADDRESS_FIELDS = (*ADDRESS_FIELDS, "address_type")


class _Options(Protocol):
    @property
    def company_currency(self) -> str: ...


class _Connector(Protocol):
    @property
    def wire(self) -> FrappeWire: ...
    @property
    def tz(self) -> ZoneInfo: ...
    @property
    def options(self) -> _Options: ...


class ERPNextMasterReads:
    """Whole Item and Customer tables in keyset pages, and customers by crosswalk key, for
    reconciliation; mixed into `ERPNext`."""

    async def list_items(self: _Connector, *, first: int, after: str | None) -> Page[Item]:
        rows, cursor = await keyset_page(self.wire, "Item", ITEM_FIELDS, first=first, after=after)
        currency = self.options.company_currency
        return Page(tuple(to_item(r, tz=self.tz, currency=currency) for r in rows), cursor)

    async def list_customers(
        self: _Connector, *, first: int, after: str | None
    ) -> Page[ErpCustomer]:
        rows, cursor = await keyset_page(
            self.wire, "Customer", MASTER_CUSTOMER_FIELDS, first=first, after=after
        )
        return Page(tuple(await _with_addresses(self.wire, rows)), cursor)

    async def customers_by_crm_ids(
        self: _Connector, crm_account_ids: Sequence[str]
    ) -> dict[str, list[ErpCustomer]]:
        """Every ERP customer per CRM account id (a key with none is absent)."""
        rows = await self.wire.in_list(
            "Customer", "custom_crm_account_id", crm_account_ids, MASTER_CUSTOMER_FIELDS
        )
        wanted = set(crm_account_ids)
        result: dict[str, list[ErpCustomer]] = defaultdict(list)
        for customer in await _with_addresses(self.wire, rows):
            if customer.crm_account_id in wanted:  # `in` follows the collation: re-check
                result[customer.crm_account_id].append(customer)
        return dict(result)


class ERPNextMasterWrites:
    """Customer, address and item writes for the sync rules, mixed into `ERPNext`."""

    async def update_customer(self: _Connector, name: str, *, customer_name: str) -> ErpCustomer:
        doc = await self.wire.update("Customer", name, {"customer_name": customer_name})
        return to_erp_customer({k: doc.get(k) for k in CUSTOMER_FIELDS})

    async def customer_addresses(self: _Connector, customer: str) -> dict[str, ErpAddress]:
        """The customer's addresses by kind (`address_type`); the first of each kind by name."""
        links = [
            ["Dynamic Link", "link_doctype", "=", "Customer"],
            ["Dynamic Link", "link_name", "=", customer],
        ]
        rows = await self.wire.list_all("Address", KINDED_ADDRESS_FIELDS, links)
        found: dict[str, ErpAddress] = {}
        for row in sorted(rows, key=lambda r: str(r.get("name"))):
            address = _erp_address(row)
            found.setdefault(address.kind, address)
        return found

    async def save_address(
        self: _Connector,
        customer: str,
        *,
        kind: str,
        title: str,
        address: Address,
        name: str | None = None,
    ) -> ErpAddress:
        """Update address `name`, or create one of `kind` linked to the customer."""
        fields = _address_doc(address, kind)
        if name is not None:
            doc = await self.wire.update("Address", name, fields)
        else:
            link = {"link_doctype": "Customer", "link_name": customer}
            doc = await self.wire.insert(
                "Address", {**fields, "address_title": title, "links": [link]}
            )
        return ErpAddress(str(doc["name"]), kind, to_address(doc))

    async def update_item(
        self: _Connector, sku: str, *, name: str, description: str | None, disabled: bool
    ) -> Item:
        changes = {
            "item_name": name[:ITEM_NAME_MAX],
            "description": description or "",
            "disabled": 1 if disabled else 0,
        }
        doc = await self.wire.update("Item", sku, changes)
        return to_item(doc, tz=self.tz, currency=self.options.company_currency)


async def _with_addresses(wire: FrappeWire, rows: Sequence[Doc]) -> list[ErpCustomer]:
    """The customers of `rows`, each with its primary address (one Address call for all)."""
    names = [str(r["customer_primary_address"]) for r in rows if r.get("customer_primary_address")]
    places = await wire.in_list("Address", "name", names, KINDED_ADDRESS_FIELDS)
    place_of = {str(p.get("name")): _erp_address(p) for p in places}
    return [
        to_erp_customer(r, place_of.get(str(r.get("customer_primary_address") or ""))) for r in rows
    ]


def _erp_address(row: Doc) -> ErpAddress:
    kind = str(row.get("address_type") or "Billing")
    return ErpAddress(str(row["name"]), kind, to_address(row))


def _address_doc(address: Address, kind: str) -> dict[str, Any]:
    doc: Doc = {
        "address_type": kind,
        "address_line1": address.street or "",
        "address_line2": "",
        "city": address.city or "",
        "state": address.region or "",
        "pincode": address.postal_code or "",
        "country": country_name(address.country) or "",
        "is_primary_address": 1 if kind == "Billing" else 0,
        "is_shipping_address": 1 if kind == "Shipping" else 0,
    }
    return doc
