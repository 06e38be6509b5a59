"""The DocTypes the emulation serves, with the fields of dialects.md §B.6 and §B.8."""

from __future__ import annotations

from typing import Any

from .errors import FrappeError
from .meta import DocType, Field, FieldType


def _f(name: str, type_: FieldType = "Data", options: str = "", **kw: Any) -> Field:
    return Field(name, type_, options=options, **kw)


def _link(name: str, target: str, **kw: Any) -> Field:
    return Field(name, "Link", options=target, **kw)


def _num(name: str, type_: FieldType = "Float", **kw: Any) -> Field:
    return Field(name, type_, **kw)


def _aos(name: str, type_: FieldType = "Data", **kw: Any) -> Field:
    return Field(name, type_, allow_on_submit=True, **kw)


COMPANY = DocType("Company", (
    _f("company_name", reqd=True), _f("abbr", reqd=True), _f("default_currency", default="USD"),
    _f("country"),
), naming="field:company_name")  # fmt: skip

CUSTOMER_CREDIT_LIMIT = DocType("Customer Credit Limit", (
    _link("company", "Company"), _num("credit_limit", "Currency"),
    _num("bypass_credit_limit_check", "Check"),
), is_child=True, parents=("Customer",))  # fmt: skip

CUSTOMER = DocType("Customer", (
    _f("customer_name", reqd=True), _f("customer_type", "Select", default="Company"),
    _f("customer_group"), _f("territory"), _f("default_currency"), _f("tax_id"),
    _num("disabled", "Check"), _num("is_frozen", "Check"), _f("email_id"), _f("mobile_no"),
    _link("customer_primary_address", "Address"), _f("custom_crm_account_id", indexed=True),
    _f("credit_limits", "Table", "Customer Credit Limit"),
), naming="custom")  # fmt: skip

DYNAMIC_LINK = DocType("Dynamic Link", (
    _f("link_doctype", reqd=True), _f("link_name", reqd=True, indexed=True), _f("link_title"),
), is_child=True, parents=("Address",))  # fmt: skip

ADDRESS = DocType("Address", (
    _f("address_title"), _f("address_type", "Select", default="Billing"),
    _f("address_line1", reqd=True), _f("address_line2"), _f("city", reqd=True), _f("state"),
    _f("pincode"), _f("country", reqd=True), _f("email_id"), _f("phone"),
    _num("is_primary_address", "Check"), _num("is_shipping_address", "Check"),
    _f("links", "Table", "Dynamic Link"),
), naming="custom")  # fmt: skip

UOM = DocType("UOM", (
    _f("uom_name", reqd=True), _num("must_be_whole_number", "Check"),
    _num("enabled", "Check", default=1), _f("symbol"),
), naming="field:uom_name")  # fmt: skip

# ERPNext v15's `Item Reorder` (erpnext/stock/doctype/item_reorder): the `reorder_levels` rows
# of an Item, one per warehouse; `warehouse_group` is where the projected quantity is checked.
ITEM_REORDER = DocType(
    "Item Reorder",
    (
        _link("warehouse_group", "Warehouse"),
        _link("warehouse", "Warehouse", reqd=True, indexed=True),
        _num("warehouse_reorder_level"),
        _num("warehouse_reorder_qty"),
        _f("material_request_type", "Select", reqd=True, default="Purchase"),
    ),
    is_child=True,
    parents=("Item",),
)

ITEM = DocType("Item", (
    _f("item_code", reqd=True), _f("item_name", reqd=True), _f("item_group", reqd=True),
    _f("stock_uom", reqd=True, default="Nos"), _f("description", "Text"),
    _num("is_stock_item", "Check", default=1), _num("disabled", "Check"),
    _num("valuation_rate", "Currency"), _num("standard_rate", "Currency"),
    _num("weight_per_unit"), _num("has_variants", "Check"), _num("has_batch_no", "Check"),
    _num("has_serial_no", "Check"), _f("reorder_levels", "Table", "Item Reorder"),
), naming="field:item_code")  # fmt: skip

WAREHOUSE = DocType("Warehouse", (
    _f("warehouse_name", reqd=True), _link("company", "Company", reqd=True),
    _num("is_group", "Check"), _link("parent_warehouse", "Warehouse"), _num("disabled", "Check"),
    _f("warehouse_type"), _f("city"), _f("country"),
), naming="custom")  # fmt: skip

BIN = DocType("Bin", (
    _link("item_code", "Item", reqd=True, indexed=True),
    _link("warehouse", "Warehouse", reqd=True, indexed=True),
    *(_num(q) for q in (
        "actual_qty", "reserved_qty", "ordered_qty", "indented_qty", "planned_qty",
        "projected_qty", "reserved_qty_for_production", "reserved_qty_for_sub_contract",
        "reserved_qty_for_production_plan", "reserved_stock")),
    _f("stock_uom"), _num("valuation_rate", "Currency"), _num("stock_value", "Currency"),
), naming="series:MAT-BIN-.YYYY.-.#####", read_only=True)  # fmt: skip

SALES_ORDER_ITEM = DocType("Sales Order Item", (
    _link("item_code", "Item", reqd=True, indexed=True), _f("item_name"), _f("description", "Text"),
    _f("uom"), _f("stock_uom"), _num("conversion_factor", default=1.0), _num("qty"),
    _num("stock_qty"), _num("rate", "Currency"), _num("amount", "Currency"),
    _link("warehouse", "Warehouse"), _aos("delivery_date", "Date"), _num("delivered_qty"),
    _num("returned_qty"), _num("stock_reserved_qty"), _num("reserve_stock", "Check", default=1),
    _num("actual_qty"), _num("projected_qty"),
), is_child=True, parents=("Sales Order",))  # fmt: skip

SALES_ORDER = DocType("Sales Order", (
    _f("naming_series", default="SAL-ORD-.YYYY.-"), _link("customer", "Customer", reqd=True),
    _f("customer_name"), _f("order_type", "Select", default="Sales"),
    _f("transaction_date", "Date", reqd=True), _aos("delivery_date", "Date"),
    _link("company", "Company", reqd=True), _f("currency", reqd=True),
    _num("conversion_rate", default=1.0), _f("selling_price_list", default="Standard Selling"),
    _aos("po_no"), _aos("po_date", "Date"), _link("set_warehouse", "Warehouse"),
    _link("shipping_address_name", "Address"), _num("reserve_stock", "Check"),
    _aos("status", "Select", default="Draft"), _aos("delivery_status", "Select"),
    _aos("billing_status", "Select"), _aos("per_delivered", "Percent"),
    _aos("per_billed", "Percent"), _num("total_qty"), _num("total", "Currency"),
    _num("net_total", "Currency"), _num("grand_total", "Currency"),
    _num("rounded_total", "Currency"), _num("base_grand_total", "Currency"),
    _f("custom_crm_order_id", indexed=True),
    _f("items", "Table", "Sales Order Item", reqd=True),
), naming="series:SAL-ORD-.YYYY.-.#####", submittable=True)  # fmt: skip

DELIVERY_NOTE_ITEM = DocType("Delivery Note Item", (
    _link("item_code", "Item", reqd=True, indexed=True), _f("item_name"), _f("description", "Text"),
    _num("qty"), _f("uom"), _f("stock_uom"), _num("conversion_factor", default=1.0),
    _num("stock_qty"), _num("rate", "Currency"), _num("amount", "Currency"),
    _link("warehouse", "Warehouse"), _link("against_sales_order", "Sales Order", indexed=True),
    _f("so_detail", indexed=True), _num("actual_qty"), _num("returned_qty"),
), is_child=True, parents=("Delivery Note",))  # fmt: skip

DELIVERY_NOTE = DocType("Delivery Note", (
    _f("naming_series", default="MAT-DN-.YYYY.-"), _link("customer", "Customer", reqd=True),
    _f("customer_name"), _link("company", "Company", reqd=True), _f("posting_date", "Date"),
    _f("posting_time", "Time"), _link("set_warehouse", "Warehouse"), _f("currency"),
    _aos("po_no"), _num("is_return", "Check"), _link("shipping_address_name", "Address"),
    _aos("status", "Select", default="Draft"), _aos("per_billed", "Percent"),
    _num("total_qty"), _num("grand_total", "Currency"), _f("custom_crm_order_id", indexed=True),
    _f("items", "Table", "Delivery Note Item", reqd=True),
), naming="series:MAT-DN-.YYYY.-.#####", submittable=True)  # fmt: skip

SHIPMENT_DELIVERY_NOTE = DocType("Shipment Delivery Note", (
    _link("delivery_note", "Delivery Note", reqd=True, indexed=True),
    _num("grand_total", "Currency"),
), is_child=True, parents=("Shipment",))  # fmt: skip

SHIPMENT_PARCEL = DocType("Shipment Parcel", (
    _num("length", "Int"), _num("width", "Int"), _num("height", "Int"),
    _num("weight", reqd=True), _num("count", "Int", reqd=True, default=1),
), is_child=True, parents=("Shipment",))  # fmt: skip

SHIPMENT = DocType("Shipment", (
    _f("pickup_from_type", "Select", default="Company"),
    _f("delivery_to_type", "Select", default="Customer"),
    _link("pickup_company", "Company"), _link("pickup_customer", "Customer"),
    _link("delivery_company", "Company"), _link("delivery_customer", "Customer", indexed=True),
    _link("pickup_address_name", "Address", reqd=True),
    _link("delivery_address_name", "Address", reqd=True),
    _f("pickup_contact_name"), _f("delivery_contact_name"),
    _f("pickup_date", "Date", reqd=True), _f("pickup_from", "Time", default="09:00:00"),
    _f("pickup_to", "Time", default="17:00:00"), _f("pickup_type", "Select", default="Pickup"),
    _f("shipment_type", "Select", default="Goods"), _f("description_of_content", "Text", reqd=True),
    _f("pallets", "Select", default="No"), _num("value_of_goods", "Currency"),
    _num("total_weight"), _aos("shipment_amount", "Currency"), _aos("service_provider"),
    _aos("carrier"), _aos("carrier_service"), _aos("shipment_id"), _aos("awb_number"),
    _aos("tracking_url"), _aos("tracking_status", "Select"), _aos("tracking_status_info"),
    _aos("status", "Select", default="Draft"), _f("custom_crm_order_id", indexed=True),
    _f("shipment_delivery_note", "Table", "Shipment Delivery Note"),
    _f("shipment_parcel", "Table", "Shipment Parcel"),
), naming="series:SHIPMENT-.#####", submittable=True)  # fmt: skip

STOCK_RESERVATION_ENTRY = DocType("Stock Reservation Entry", (
    _link("item_code", "Item", reqd=True, indexed=True), _link("warehouse", "Warehouse", reqd=True),
    _f("voucher_type", "Select", reqd=True, default="Sales Order"),
    _f("voucher_no", reqd=True, indexed=True), _f("voucher_detail_no", reqd=True, indexed=True),
    _num("voucher_qty", reqd=True), _num("available_qty", reqd=True),
    _num("reserved_qty", reqd=True), _num("delivered_qty"), _f("stock_uom", reqd=True),
    _link("company", "Company", reqd=True), _f("reservation_based_on", default="Qty"),
    _aos("status", "Select", default="Draft"),
), naming="series:MAT-SRE-.YYYY.-.#####", submittable=True)  # fmt: skip

WEBHOOK_HEADER = DocType(
    "Webhook Header",
    (_f("key", reqd=True), _f("value", "Text")),
    is_child=True,
    parents=("Webhook",),
)

WEBHOOK_DATA = DocType(
    "Webhook Data",
    (_f("fieldname", reqd=True), _f("key", reqd=True)),
    is_child=True,
    parents=("Webhook",),
)

# Frappe's Webhook (frappe/integrations/doctype/webhook, v15); backends.erpnext.webhooks runs it.
WEBHOOK = DocType(
    "Webhook",
    (
        _f("webhook_doctype", reqd=True),
        _f("webhook_docevent", "Select", reqd=True),
        _num("enabled", "Check", default=1),
        _f("condition", "Text"),
        _f("request_url", "Text", reqd=True),
        _num("is_dynamic_url", "Check"),
        _num("timeout", "Int", default=5),
        _f("request_method", "Select", default="POST"),
        _f("request_structure", "Select", default=""),
        _f("webhook_json", "Text"),
        _num("enable_security", "Check"),
        _f("webhook_secret"),
        _f("webhook_headers", "Table", "Webhook Header"),
        _f("webhook_data", "Table", "Webhook Data"),
    ),
    naming="prompt",
)

# One row per delivery attempt; written by the emulation only (read over /api/resource).
WEBHOOK_REQUEST_LOG = DocType(
    "Webhook Request Log",
    (
        _f("webhook", indexed=True),
        _f("reference_doctype"),
        _f("reference_document", indexed=True),
        _f("headers", "Text"),
        _f("data", "Text"),
        _f("user"),
        _f("url", "Text"),
        _f("response", "Text"),
        _f("error", "Text"),
    ),
    read_only=True,
)

DOCTYPES: dict[str, DocType] = {
    d.name: d
    for d in (
        COMPANY,
        CUSTOMER_CREDIT_LIMIT,
        CUSTOMER,
        DYNAMIC_LINK,
        ADDRESS,
        UOM,
        ITEM_REORDER,
        ITEM,
        WAREHOUSE,
        BIN,
        SALES_ORDER_ITEM,
        SALES_ORDER,
        DELIVERY_NOTE_ITEM,
        DELIVERY_NOTE,
        SHIPMENT_DELIVERY_NOTE,
        SHIPMENT_PARCEL,
        SHIPMENT,
        STOCK_RESERVATION_ENTRY,
        WEBHOOK_HEADER,
        WEBHOOK_DATA,
        WEBHOOK,
        WEBHOOK_REQUEST_LOG,
    )
}


def meta(doctype: str) -> DocType:
    """The DocType, or Frappe's 404 for an unknown one."""
    try:
        return DOCTYPES[doctype]
    except KeyError:
        raise FrappeError("DoesNotExistError", f"DocType {doctype} not found") from None


def linked_from(target: str) -> list[tuple[DocType, str]]:
    """(DocType, Link field) pairs that point at `target`, for delete/cancel link checks."""
    return [(d, f.name) for d in DOCTYPES.values() for f in d.links if f.options == target]
