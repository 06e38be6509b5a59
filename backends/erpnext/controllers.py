"""Per-DocType `validate` hooks: defaults the server fills in and Frappe/ERPNext's checks.

They run on every save of a draft, before the mandatory and link checks, as in Frappe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import FrappeError

if TYPE_CHECKING:
    from .store import ErpStore

Row = dict[str, Any]


# A document event for webhooks: (doctype, name, Frappe's method name such as "on_update").
Event = tuple[str, str, str]


@dataclass
class Context:
    """What a hook may use: the store, the default company, messages for the reply, and the
    document events the request fired (backends.erpnext.webhooks sends them after commit)."""

    store: ErpStore
    company: str
    messages: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    trashed: dict[tuple[str, str], Row] = field(default_factory=dict)

    def fire(self, doctype: str, name: str, *events: str) -> None:
        self.events += [(doctype, name, event) for event in events]

    def value(self, doctype: str, name: Any, column: str) -> Any:
        rows = self.store.query(f'SELECT "{column}" FROM "tab{doctype}" WHERE name = ?', (name,))  # noqa: S608
        return rows[0][column] if rows else None


Hook = Callable[[Context, Row], None]


def validate_item(ctx: Context, doc: Row) -> None:
    doc["item_name"] = doc.get("item_name") or doc.get("item_code")
    _validate_reorder_levels(doc.get("reorder_levels") or [])


REQUEST_TYPES = ("Purchase", "Transfer", "Material Issue", "Manufacture")


def _validate_reorder_levels(rows: list[Row]) -> None:
    """ERPNext's Item.validate_reorder_level: one row per warehouse, a level needs a
    quantity, and the group to check in defaults to the warehouse itself."""
    seen: set[str] = set()
    for row in rows:
        row["warehouse_group"] = row.get("warehouse_group") or row.get("warehouse")
        if row.get("warehouse") in seen:
            raise FrappeError(
                "ValidationError",
                f"Row #{row['idx']}: A Reorder entry already exists for this warehouse "
                f"{row.get('warehouse')}",
            )
        seen.add(str(row.get("warehouse")))
        if row.get("warehouse_reorder_level") and not row.get("warehouse_reorder_qty"):
            raise FrappeError("ValidationError", f"Row #{row['idx']}: Please set reorder quantity")
        _check_choice(row, "material_request_type", REQUEST_TYPES)


def validate_customer(ctx: Context, doc: Row) -> None:
    companies = [row.get("company") for row in doc.get("credit_limits") or []]
    for company in companies:
        if companies.count(company) > 1:
            raise FrappeError(
                "ValidationError", f"Credit limit is already defined for the Company {company}"
            )


def _fill_header(ctx: Context, doc: Row) -> None:
    doc["company"] = doc.get("company") or ctx.company
    doc["currency"] = doc.get("currency") or ctx.value(
        "Company", doc["company"], "default_currency"
    )
    doc["customer_name"] = ctx.value("Customer", doc.get("customer"), "customer_name") or doc.get(
        "customer_name"
    )


def _fill_rows(ctx: Context, doc: Row, warehouse_message: str) -> None:
    total_qty = total = 0.0
    for row in doc.get("items") or []:
        item = ctx.store.query(
            "SELECT item_name, stock_uom, is_stock_item FROM tabItem WHERE name = ?",
            (row.get("item_code"),),
        )
        if item:
            row["item_name"] = row.get("item_name") or item[0]["item_name"]
            row["stock_uom"] = item[0]["stock_uom"]
        row["uom"] = row.get("uom") or row.get("stock_uom")
        row["warehouse"] = row.get("warehouse") or doc.get("set_warehouse")
        if item and item[0]["is_stock_item"] and not row["warehouse"]:
            raise FrappeError("WarehouseRequired", warehouse_message.format(row["item_code"]))
        row["stock_qty"] = (row.get("qty") or 0.0) * (row.get("conversion_factor") or 1.0)
        row["amount"] = (row.get("qty") or 0.0) * (row.get("rate") or 0.0)
        total_qty += row.get("qty") or 0.0
        total += row["amount"]
    doc["total_qty"] = total_qty
    doc["grand_total"] = total


def validate_sales_order(ctx: Context, doc: Row) -> None:
    _fill_header(ctx, doc)
    doc["transaction_date"] = doc.get("transaction_date") or ctx.store.today()
    rows = doc.get("items") or []
    for row in rows:
        row["delivery_date"] = row.get("delivery_date") or doc.get("delivery_date")
    dates = [row["delivery_date"] for row in rows if row.get("delivery_date")]
    if doc.get("order_type") == "Sales" and not dates:
        raise FrappeError("ValidationError", "Please enter Delivery Date")
    if dates:
        doc["delivery_date"] = max(dates)
    if any(d < doc["transaction_date"] for d in dates):
        raise FrappeError(
            "ValidationError", "Expected Delivery Date should be after Sales Order Date"
        )
    _fill_rows(ctx, doc, "Delivery warehouse required for stock item {0}")
    doc["total"] = doc["net_total"] = doc["grand_total"]
    doc["rounded_total"] = float(round(doc["grand_total"]))
    doc["base_grand_total"] = doc["grand_total"] * (doc.get("conversion_rate") or 1.0)
    doc["status"] = "Draft"


def validate_delivery_note(ctx: Context, doc: Row) -> None:
    _fill_header(ctx, doc)
    doc["posting_date"] = doc.get("posting_date") or ctx.store.today()
    doc["posting_time"] = doc.get("posting_time") or ctx.store.now()[11:19]
    for row in doc.get("items") or []:
        if bool(row.get("against_sales_order")) != bool(row.get("so_detail")):
            raise FrappeError(
                "ValidationError",
                f"Row #{row['idx']}: against_sales_order and so_detail go together",
            )
    _fill_rows(ctx, doc, "Warehouse required for stock Item {0}")
    doc["status"] = "Draft"


def validate_shipment(ctx: Context, doc: Row) -> None:
    for parcel in doc.get("shipment_parcel") or []:
        if (parcel.get("weight") or 0.0) <= 0:
            raise FrappeError("ValidationError", "Parcel weight cannot be 0")
    value = 0.0
    for row in doc.get("shipment_delivery_note") or []:
        row["grand_total"] = (
            ctx.value("Delivery Note", row.get("delivery_note"), "grand_total") or 0.0
        )
        value += row["grand_total"]
    doc["value_of_goods"] = value or doc.get("value_of_goods") or 0.0
    doc["total_weight"] = sum(
        (p.get("weight") or 0.0) * (p.get("count") or 1) for p in doc.get("shipment_parcel") or []
    )
    doc["status"] = "Draft"


def validate_reservation(ctx: Context, doc: Row) -> None:
    if ctx.value("Warehouse", doc.get("warehouse"), "is_group"):
        raise FrappeError(
            "ValidationError",
            f"Stock cannot be reserved in group warehouse {doc['warehouse']}.",
        )
    doc["status"] = "Draft"


DOC_EVENTS = (
    "after_insert",
    "on_update",
    "on_submit",
    "on_cancel",
    "on_trash",
    "on_update_after_submit",
    "on_change",
)
_SUBMIT_EVENTS = ("on_submit", "on_cancel", "on_update_after_submit")


def validate_webhook(ctx: Context, doc: Row) -> None:
    """Frappe's Webhook.validate, minus what the emulation does not run (conditions)."""
    from .doctypes import DOCTYPES

    target = DOCTYPES.get(doc.get("webhook_doctype") or "")
    if target is None or target.is_child:
        raise FrappeError("ValidationError", f"DocType {doc.get('webhook_doctype')} not found")
    event = doc.get("webhook_docevent")
    if event not in DOC_EVENTS:
        raise FrappeError("ValidationError", f"Doc Event must be one of {', '.join(DOC_EVENTS)}")
    if event in _SUBMIT_EVENTS and not target.submittable:
        raise FrappeError(
            "ValidationError", "DocType must be Submittable for the selected Doc Event"
        )
    _check_choice(doc, "request_method", ("POST", "PUT", "DELETE"))
    _check_choice(doc, "request_structure", ("", "Form URL-Encoded", "JSON"))
    if (doc.get("condition") or "").strip():
        raise FrappeError(
            "ValidationError",
            "Condition: the emulation does not evaluate Python conditions; leave it empty",
        )
    if doc.get("request_structure") == "Form URL-Encoded":
        doc["webhook_json"] = None
    doc["timeout"] = doc.get("timeout") or 5


def _check_choice(doc: Row, field_name: str, choices: tuple[str, ...]) -> None:
    value = doc.get(field_name) or ""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise FrappeError(
            "ValidationError", f"{field_name} must be one of {allowed}, not {value!r}"
        )


VALIDATE: dict[str, Hook] = {
    "Item": validate_item,
    "Customer": validate_customer,
    "Sales Order": validate_sales_order,
    "Delivery Note": validate_delivery_note,
    "Shipment": validate_shipment,
    "Stock Reservation Entry": validate_reservation,
    "Webhook": validate_webhook,
}
