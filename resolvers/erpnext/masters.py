"""Master-data writes the sync rules make: a customer's name and addresses, an item's fields.

`ERPNext` inherits them; they use only its wire, time zone and options (`_Connector`).
Values go out in ERPNext's form: a country as Frappe's Country name, checks as 0/1, an
address linked to its customer through a `Dynamic Link` row.

    addresses = await erp.customer_addresses("Acme Corp")   # {"Billing": ErpAddress, ...}
    await erp.save_address("Acme Corp", kind="Billing", title="Acme Corp", address=Address(...))
"""

from __future__ import annotations

from typing import Any, Protocol
from zoneinfo import ZoneInfo

from resolvers.erpnext.countries import country_name
from resolvers.erpnext.mapping import (
    ADDRESS_FIELDS,
    CUSTOMER_FIELDS,
    to_address,
    to_erp_customer,
    to_item,
)
from resolvers.erpnext.wire import Doc, FrappeWire
from resolvers.records import Address, ErpAddress, ErpCustomer, Item

ITEM_NAME_MAX = 140  # Frappe's Data fields hold 140 characters


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
        rows = await self.wire.list_all("Address", (*ADDRESS_FIELDS, "address_type"), links)
        found: dict[str, ErpAddress] = {}
        for row in sorted(rows, key=lambda r: str(r.get("name"))):
            kind = str(row.get("address_type") or "Billing")
            found.setdefault(kind, ErpAddress(str(row["name"]), kind, to_address(row)))
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
