"""Field metadata of the emulated modules: API names, types, mandatory and unique fields.

Field lists follow the v8 SDK constants and crm-oas examples (dialects.md §A.8), plus the
Crossdock custom fields `Accounts.Credit_Limit` and the unique `Sales_Orders.External_Ref`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FieldType = Literal[
    "text",
    "email",
    "phone",
    "website",
    "textarea",
    "picklist",
    "integer",
    "double",
    "currency",
    "boolean",
    "date",
    "datetime",
    "lookup",
    "owner",
    "subform",
    "id",
]

TEXT_TYPES: frozenset[str] = frozenset({"text", "email", "phone", "website", "textarea"})
NUMBER_TYPES: frozenset[str] = frozenset({"integer", "double", "currency"})
ORDER_STATUSES: tuple[str, ...] = (
    "Created",
    "Pending Approval",
    "Approved",
    "Delivered",
    "Cancelled",
)
# Fields the server maintains; values sent for them on writes are ignored, as Zoho does.
SYSTEM_FIELDS: frozenset[str] = frozenset(
    {"id", "Created_Time", "Modified_Time", "Created_By", "Modified_By", "SO_Number", "Full_Name"}
)


@dataclass(frozen=True)
class Module:
    """One CRM module: its field types and the rules writes must satisfy."""

    api_name: str
    fields: dict[str, FieldType]
    mandatory: tuple[str, ...]
    duplicate_check: str
    unique: tuple[str, ...] = ()
    lookups: dict[str, str] = field(default_factory=dict)  # field -> target module
    picklists: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def type_of(self, name: str) -> FieldType | None:
        return self.fields.get(name)


_COMMON: dict[str, FieldType] = {
    "id": "id",
    "Owner": "owner",
    "Created_By": "owner",
    "Modified_By": "owner",
    "Created_Time": "datetime",
    "Modified_Time": "datetime",
    "Description": "textarea",
    "Currency": "picklist",
    "Exchange_Rate": "double",
}


def _address(prefix: str, code: str = "Code") -> dict[str, FieldType]:
    parts = ("Street", "City", "State", code, "Country")
    return {f"{prefix}_{part}": "text" for part in parts}


ACCOUNTS = Module(
    api_name="Accounts",
    fields={
        **_COMMON,
        "Account_Name": "text",
        "Account_Number": "text",
        "Account_Site": "text",
        "Account_Type": "picklist",
        "Phone": "phone",
        "Fax": "phone",
        "Website": "website",
        "Industry": "picklist",
        "Annual_Revenue": "currency",
        "Employees": "integer",
        "Ownership": "picklist",
        "Rating": "picklist",
        "SIC_Code": "integer",
        "Ticker_Symbol": "text",
        "Parent_Account": "lookup",
        "Credit_Limit": "currency",
        **_address("Billing"),
        **_address("Shipping"),
    },
    mandatory=("Account_Name",),
    duplicate_check="Account_Name",
    lookups={"Parent_Account": "Accounts"},
)

CONTACTS = Module(
    api_name="Contacts",
    fields={
        **_COMMON,
        "First_Name": "text",
        "Last_Name": "text",
        "Full_Name": "text",
        "Email": "email",
        "Secondary_Email": "email",
        "Phone": "phone",
        "Mobile": "phone",
        "Title": "text",
        "Department": "text",
        "Account_Name": "lookup",
        "Date_of_Birth": "date",
        "Lead_Source": "picklist",
        **_address("Mailing", "Zip"),
        **_address("Other", "Zip"),
    },
    mandatory=("Last_Name",),
    duplicate_check="Email",
    lookups={"Account_Name": "Accounts"},
)

PRODUCTS = Module(
    api_name="Products",
    fields={
        **_COMMON,
        "Product_Name": "text",
        "Product_Code": "text",
        "Product_Active": "boolean",
        "Product_Category": "picklist",
        "Unit_Price": "currency",
        "Qty_in_Stock": "double",
        "Qty_Ordered": "double",
        "Qty_in_Demand": "double",
        "Reorder_Level": "double",
        "Usage_Unit": "picklist",
        "Taxable": "boolean",
        "Manufacturer": "picklist",
    },
    mandatory=("Product_Name",),
    duplicate_check="Product_Name",
)

SALES_ORDERS = Module(
    api_name="Sales_Orders",
    fields={
        **_COMMON,
        "Subject": "text",
        "SO_Number": "text",
        "Account_Name": "lookup",
        "Contact_Name": "lookup",
        "Purchase_Order": "text",
        "Customer_No": "text",
        "Status": "picklist",
        "Due_Date": "date",
        "Carrier": "picklist",
        "Pending": "text",
        "Sales_Commission": "currency",
        "Excise_Duty": "currency",
        "Sub_Total": "currency",
        "Discount": "currency",
        "Tax": "currency",
        "Adjustment": "currency",
        "Grand_Total": "currency",
        "Terms_and_Conditions": "textarea",
        "External_Ref": "text",
        "Ordered_Items": "subform",
        **_address("Billing"),
        **_address("Shipping"),
    },
    mandatory=("Subject", "Account_Name"),
    duplicate_check="Subject",
    unique=("External_Ref",),
    lookups={"Account_Name": "Accounts", "Contact_Name": "Contacts"},
    picklists={"Status": ORDER_STATUSES},
)

MODULES: dict[str, Module] = {m.api_name: m for m in (ACCOUNTS, CONTACTS, PRODUCTS, SALES_ORDERS)}

# Ordered_Items rows: canonical keys, and the spellings other sources use (dialects.md §A.8).
LINE_FIELDS: dict[str, FieldType] = {
    "id": "id",
    "Product_Name": "lookup",
    "Quantity": "double",
    "List_Price": "currency",
    "Discount": "currency",
    "Total": "currency",
    "Total_After_Discount": "currency",
    "Tax": "currency",
    "Net_Total": "currency",
    "Description": "textarea",
    "Sequence_Number": "integer",
}
LINE_ALIASES: dict[str, str] = {
    "quantity": "Quantity",
    "list_price": "List_Price",
    "ListPrice": "List_Price",
    "discount": "Discount",
    "total": "Total",
    "net_total": "Net_Total",
    "tax": "Tax",
    "product": "Product_Name",
    "unit_price": "List_Price",
    "description": "Description",
}
