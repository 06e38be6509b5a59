"""The emulated objects and their fields, as `object/describe` reports them.

Standard fields follow dialects.md §C and integration-notes §1.5 (✅/◐ there); the tenant's
custom fields end in `__c` (`field_…__c`, as every real client shows). Where the sources name
no field for something Crossdock needs (order status, tax, currency, postcode) the choice is
marked ❓ in docs/fxiaoke.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FieldType = Literal[
    "text",
    "long_text",
    "email",
    "phone_number",
    "url",
    "number",
    "currency",
    "date",
    "date_time",
    "select_one",
    "object_reference",
    "master_detail",
    "employee",
    "true_or_false",
    "auto_number",
]
# Values of these types travel as strings (money and numbers as strings, ◐ [X-SK]).
NUMBER_TYPES: frozenset[str] = frozenset({"number", "currency"})
TIME_TYPES: frozenset[str] = frozenset({"date", "date_time"})

# Custom fields of the demo tenant (`field_…__c`).
CREDIT_LIMIT = "field_credit_limit__c"
EXTERNAL_REF = "field_external_ref__c"
ORDER_STATUS = "field_order_status__c"
POSTCODE = "field_postcode__c"

# The tenant's order status options: value -> label (single-choice fields carry the value).
ORDER_STATUS_OPTIONS: dict[str, str] = {
    "created": "Created",
    "pending_approval": "Pending Approval",
    "approved": "Approved",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
}
PRODUCT_STATUS_OPTIONS: dict[str, str] = {"1": "On sale", "2": "Off sale"}
SYSTEM_FIELDS: frozenset[str] = frozenset(
    {
        "_id",
        "create_time",
        "last_modified_time",
        "created_by",
        "last_modified_by",
        "life_status",
        "lock_status",
        "is_deleted",
        "version",
        "record_type",
    }
)


@dataclass(frozen=True)
class ObjectDef:
    """One object: field types, labels, required and unique fields, lookups and options."""

    api_name: str
    label: str
    fields: dict[str, tuple[FieldType, str]]  # api name -> (type, label)
    required: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    lookups: dict[str, str] = field(default_factory=dict)  # field -> target apiName
    options: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> value -> label
    auto_number: str | None = None  # a field the server numbers (SalesOrderObj.name)

    def type_of(self, name: str) -> FieldType | None:
        spec = self.fields.get(name)
        return spec[0] if spec else None

    def describe(self) -> dict[str, Any]:
        """The `data.describe` body of `object/describe`."""
        fields = {}
        for name, (kind, label) in self.fields.items():
            entry: dict[str, Any] = {"api_name": name, "type": kind, "label": label}
            entry["is_required"] = name in self.required
            entry["is_unique"] = name in self.unique
            entry["define_type"] = "custom" if name.endswith("__c") else "package"
            if name in self.lookups:
                entry["target_api_name"] = self.lookups[name]
            if name in self.options:
                options = self.options[name].items()
                entry["options"] = [{"value": v, "label": lb} for v, lb in options]
            fields[name] = entry
        return {"api_name": self.api_name, "display_name": self.label, "fields": fields}


_COMMON: dict[str, tuple[FieldType, str]] = {
    "_id": ("text", "ID"),
    "name": ("text", "Name"),
    "owner": ("employee", "Owner"),
    "created_by": ("employee", "Created by"),
    "last_modified_by": ("employee", "Last modified by"),
    "create_time": ("date_time", "Create time"),
    "last_modified_time": ("date_time", "Last modified time"),
    "life_status": ("select_one", "Life status"),
    "lock_status": ("select_one", "Lock status"),
    "record_type": ("select_one", "Record type"),
    "is_deleted": ("true_or_false", "Deleted"),
    "version": ("text", "Version"),
    "remark": ("long_text", "Remark"),
    "mc_currency": ("select_one", "Currency"),
}
_LIFE = {"life_status": {"normal": "Normal", "invalid": "Invalid"}}

ACCOUNT = ObjectDef(
    "AccountObj",
    "客户 Account",
    {
        **_COMMON,
        "account_no": ("text", "Account number"),
        "account_type": ("select_one", "Account type"),
        "industry_level1": ("text", "Industry"),
        "tel": ("phone_number", "Phone"),
        "email": ("email", "Email"),
        "url": ("url", "Website"),
        "address": ("text", "Address"),
        "city": ("text", "City"),
        "province": ("text", "Province"),
        "country": ("text", "Country"),
        POSTCODE: ("text", "Postcode"),
        CREDIT_LIMIT: ("currency", "Credit limit"),
    },
    required=("name",),
    unique=("name",),
    options={**_LIFE, "account_type": {"customer": "Customer", "partner": "Partner"}},
)

CONTACT = ObjectDef(
    "ContactObj",
    "联系人 Contact",
    {
        **_COMMON,
        "account_id": ("object_reference", "Account"),
        "email": ("email", "Email"),
        "tel1": ("phone_number", "Phone"),
        "mobile1": ("phone_number", "Mobile"),
        "company": ("text", "Company"),
        "job_title": ("text", "Job title"),
        "city": ("text", "City"),
        "country": ("text", "Country"),
    },
    required=("name",),
    lookups={"account_id": "AccountObj"},
    options=_LIFE,
)

PRODUCT = ObjectDef(
    "ProductObj",
    "产品 Product",
    {
        **_COMMON,
        "product_code": ("text", "Product code"),
        "product_spec": ("text", "Specification"),
        "unit": ("text", "Unit"),
        "price": ("currency", "Standard price"),
        "category": ("select_one", "Category"),
        "product_status": ("select_one", "Status"),
    },
    required=("name",),
    unique=("product_code",),
    options={**_LIFE, "product_status": PRODUCT_STATUS_OPTIONS},
)

SALES_ORDER = ObjectDef(
    "SalesOrderObj",
    "销售订单 Sales order",
    {
        **_COMMON,
        "account_id": ("object_reference", "Account"),
        "contact_id": ("object_reference", "Contact"),
        "order_amount": ("currency", "Order amount"),
        "product_amount": ("currency", "Product amount"),
        "field_tax_amount__c": ("currency", "Tax"),
        "order_time": ("date", "Order date"),
        "delivery_date": ("date", "Delivery date"),
        "ship_to_add": ("text", "Ship-to address"),
        "field_ship_to_city__c": ("text", "Ship-to city"),
        "field_ship_to_country__c": ("text", "Ship-to country"),
        EXTERNAL_REF: ("text", "External reference"),
        ORDER_STATUS: ("select_one", "Order status"),
    },
    required=("account_id", ORDER_STATUS),
    unique=(EXTERNAL_REF,),
    lookups={"account_id": "AccountObj", "contact_id": "ContactObj"},
    options={**_LIFE, ORDER_STATUS: ORDER_STATUS_OPTIONS},
    auto_number="name",
)

ORDER_LINE = ObjectDef(
    "SalesOrderProductObj",
    "订单产品 Order product",
    {
        **_COMMON,
        "order_id": ("master_detail", "Sales order"),
        "product_id": ("object_reference", "Product"),
        "quantity": ("number", "Quantity"),
        "sales_price": ("currency", "Sales price"),
        "product_price": ("currency", "List price"),
        "discount": ("number", "Discount %"),
        "subtotal": ("currency", "Subtotal"),
        "unit": ("text", "Unit"),
    },
    required=("order_id", "product_id", "quantity"),
    lookups={"order_id": "SalesOrderObj", "product_id": "ProductObj"},
    options=_LIFE,
)

OBJECTS: dict[str, ObjectDef] = {
    o.api_name: o for o in (ACCOUNT, CONTACT, PRODUCT, SALES_ORDER, ORDER_LINE)
}
