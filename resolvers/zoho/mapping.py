"""Zoho CRM v8 records (dialects §A.8) to canonical records, and search-criteria building.

Line items accept every key spelling seen across Zoho sources (`List_Price`, `ListPrice`,
`list_price`; `Quantity`, `quantity`). A line's SKU is `Product_Name.Product_Code` when the
lookup carries it; otherwise the connector resolves it from the product ids (batched).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeGuard

from resolvers.canonical import (
    EPOCH,
    country_code,
    format_offset_datetime,
    money,
    parse_offset_datetime,
    shared_money,
    text,
    to_decimal,
    to_decimal_or_zero,
)
from resolvers.errors import BackendRejected, InvalidInput
from resolvers.records import (
    Address,
    CatalogProduct,
    Customer,
    Money,
    Order,
    OrderLine,
    OrderStatus,
)

Record = Mapping[str, Any]

ACCOUNT_FIELDS = (
    "Account_Name,Account_Number,Industry,Website,Phone,Currency,"
    "Billing_Street,Billing_City,Billing_State,Billing_Code,Billing_Country,"
    "Shipping_Street,Shipping_City,Shipping_State,Shipping_Code,Shipping_Country,"
    "Created_Time,Modified_Time"
)
CONTACT_FIELDS = "Email,Account_Name,Created_Time"
ORDER_FIELDS = (
    "SO_Number,Subject,Status,Account_Name,Ordered_Items,Sub_Total,Tax,Grand_Total,"
    "Currency,Created_Time,Modified_Time"
)
# An order's attributes (resolvers.records.Order) and the columns each is made from, for
# reads narrowed to what a request needs (resolvers.columns); `Status` is always asked.
ORDER_BASE = ("Status",)
ORDER_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "number": ("SO_Number",),
    "status": ("Status",),
    "customer_id": ("Account_Name",),
    "customer_name": ("Account_Name",),
    "lines": ("Ordered_Items", "Currency"),
    "subtotal": ("Sub_Total", "Currency"),
    "tax": ("Tax", "Currency"),
    "total": ("Grand_Total", "Currency"),
    "placed_at": ("Created_Time",),
    "updated_at": ("Modified_Time",),
    "subject": ("Subject",),
}
# A total the order lacks is derived from other columns (to_order): a narrowed read that
# finds it missing without having asked for those reads the order again in full.
ORDER_FALLBACKS: Mapping[str, tuple[str, ...]] = {
    "Grand_Total": ("Sub_Total", "Tax", "Ordered_Items"),
    "Sub_Total": ("Ordered_Items",),
}
PRODUCT_FIELDS = (
    "Product_Name,Product_Code,Product_Active,Unit_Price,Usage_Unit,Description,Currency,"
    "Reorder_Level,Modified_Time"
)


def lacks_inputs(record: Record, asked: frozenset[str]) -> bool:
    """Whether a value of `record` must be derived from columns the read did not ask for."""
    return any(
        column in asked and record.get(column) is None and not asked.issuperset(inputs)
        for column, inputs in ORDER_FALLBACKS.items()
    )


def escape(value: str) -> str:
    """A criteria value with Zoho's escapes for `(`, `)` and `,` (§A.5)."""
    return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace(",", "\\,")


def condition(field: str, op: str, values: str | Sequence[str]) -> str:
    joined = escape(values) if isinstance(values, str) else ",".join(escape(v) for v in values)
    return f"({field}:{op}:{joined})"


def any_of(conditions: Sequence[str]) -> str:
    return conditions[0] if len(conditions) == 1 else "(" + "or".join(conditions) + ")"


def all_of(conditions: Sequence[str]) -> str:
    return conditions[0] if len(conditions) == 1 else "(" + "and".join(conditions) + ")"


def status_conditions(status: OrderStatus | None, statuses: Mapping[str, OrderStatus]) -> list[str]:
    """Criteria for a canonical status: any tenant picklist value that maps to it."""
    if status is None:
        return []
    values = [name for name, value in statuses.items() if value == status]
    if not values:
        raise InvalidInput(f"No CRM Status value maps to {status.value}; see crm.order_statuses")
    return [any_of([condition("Status", "equals", v) for v in values])]


def since_conditions(modified_since: datetime | None) -> list[str]:
    if modified_since is None:
        return []
    return [condition("Modified_Time", "greater_equal", format_offset_datetime(modified_since))]


def _is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    return value.__class__ is dict or isinstance(value, Mapping)  # decoded JSON: dicts, first


def lookup_id(value: Any) -> str | None:
    return text(value.get("id")) if _is_mapping(value) else None


def lookup_name(value: Any) -> str | None:
    """The display name a Zoho lookup carries (`{"name": "Acme", "id": "…"}`)."""
    return text(value.get("name")) if _is_mapping(value) else None


def _time(record: Record, key: str) -> datetime:
    return parse_offset_datetime(record.get(key)) or EPOCH


def _address(record: Record, prefix: str) -> Address | None:
    address = Address(
        street=text(record.get(f"{prefix}_Street")),
        city=text(record.get(f"{prefix}_City")),
        region=text(record.get(f"{prefix}_State")),
        postal_code=text(record.get(f"{prefix}_Code")),
        country=country_code(text(record.get(f"{prefix}_Country"))),
    )
    return None if address == Address() else address


def to_customer(
    record: Record, *, email: str | None, currency: str, credit_field: str | None
) -> Customer:
    currency = text(record.get("Currency")) or currency
    return Customer(
        id=str(record["id"]),
        name=text(record.get("Account_Name")) or "",
        created_at=_time(record, "Created_Time"),
        updated_at=_time(record, "Modified_Time"),
        number=text(record.get("Account_Number")),
        industry=text(record.get("Industry")),
        website=text(record.get("Website")),
        email=email,
        phone=text(record.get("Phone")),
        billing_address=_address(record, "Billing"),
        shipping_address=_address(record, "Shipping"),
        credit_limit=money(record.get(credit_field), currency) if credit_field else None,
    )


def primary_emails(contacts: Sequence[Record]) -> dict[str, str]:
    """Account id → the Email of its earliest-created contact that has one."""
    best: dict[str, tuple[datetime, str, str]] = {}
    for contact in contacts:
        account, email = lookup_id(contact.get("Account_Name")), text(contact.get("Email"))
        if account is None or email is None:
            continue
        rank = (_time(contact, "Created_Time"), str(contact.get("id", "")), email)
        if account not in best or rank < best[account]:
            best[account] = rank
    return {account: rank[2] for account, rank in best.items()}


def unresolved_product_ids(record: Record) -> list[str]:
    """Product ids of the lines whose lookup does not carry the `Product_Code` (the SKU)."""
    ids = []
    for row in _rows(record):
        product = row.get("Product_Name") or row.get("product")
        product_id = lookup_id(product)
        if product_id and not (isinstance(product, Mapping) and text(product.get("Product_Code"))):
            ids.append(product_id)
    return ids


def _rows(record: Record) -> list[Record]:
    rows = record.get("Ordered_Items") or record.get("Product_Details") or []
    return [row for row in rows if _is_mapping(row)] if isinstance(rows, list) else []


def _first(row: Record, *keys: str) -> Any:
    for key in keys:
        value = row.get(key)
        if value is not None:
            return value
    return None


def _line(row: Record, currency: str, skus: Mapping[str, str]) -> OrderLine:
    product = row.get("Product_Name") or row.get("product")
    product_id = lookup_id(product)
    code = text(product.get("Product_Code")) if _is_mapping(product) else None
    sku = code or (skus.get(product_id) if product_id else None) or ""
    quantity = to_decimal_or_zero(_first(row, "Quantity", "quantity"))
    price = to_decimal_or_zero(_first(row, "List_Price", "ListPrice", "list_price", "unit_price"))
    total = to_decimal(_first(row, "Net_Total", "Total", "net_total", "total"))
    # shared_money for amounts as read (they repeat across rows), Money for derived ones
    line_total = (
        Money(price * quantity, currency) if total is None else shared_money(total, currency)
    )
    # positional, in the record's field order: keyword arguments made building a record
    # about 40 % dearer (a peer W2 request maps 145 lines and 50 orders)
    return OrderLine(
        sku,  # sku
        quantity,  # quantity
        shared_money(price, currency),  # unit_price
        line_total,  # total
        product_id,  # product_id
    )


def _read_or_derived(read: Decimal | None, currency: str, *, lines: tuple[OrderLine, ...]) -> Money:
    """The subtotal as read, else the sum of the lines' totals."""
    if read is not None:
        return shared_money(read, currency)
    return Money(sum((line.total.amount for line in lines), Decimal(0)), currency)


def order_status(value: Any, statuses: Mapping[str, OrderStatus], order_id: str) -> OrderStatus:
    status = statuses.get(str(value)) if value is not None else None
    if status is None:
        known = ", ".join(sorted(statuses))
        raise BackendRejected(
            f"Zoho order {order_id} has Status {value!r}, which crm.order_statuses does not map "
            f"(known: {known}); add it to the setting",
            system="crm",
        )
    return status


def to_order(
    record: Record,
    *,
    statuses: Mapping[str, OrderStatus],
    currency: str,
    skus: Mapping[str, str],
) -> Order:
    order_id = str(record["id"])
    currency = text(record.get("Currency")) or currency
    lines = tuple(_line(row, currency, skus) for row in _rows(record))
    # shared_money for amounts as read (they repeat across orders), Money for derived ones
    subtotal = _read_or_derived(to_decimal(record.get("Sub_Total")), currency, lines=lines)
    tax = shared_money(to_decimal_or_zero(record.get("Tax")), currency)
    read_total = to_decimal(record.get("Grand_Total"))
    total = (
        Money(subtotal.amount + tax.amount, currency)
        if read_total is None
        else shared_money(read_total, currency)
    )
    return Order(  # positional, as in _line
        order_id,  # id
        text(record.get("SO_Number")) or order_id,  # number
        order_status(record.get("Status"), statuses, order_id),  # status
        lookup_id(record.get("Account_Name")),  # customer_id
        lines,  # lines
        subtotal,  # subtotal
        tax,  # tax
        total,  # total
        _time(record, "Created_Time"),  # placed_at
        _time(record, "Modified_Time"),  # updated_at
        text(record.get("External_Ref")),  # external_ref
        text(record.get("Subject")),  # subject
        lookup_name(record.get("Account_Name")),  # customer_name
    )


def to_product(record: Record, *, currency: str) -> CatalogProduct:
    currency = text(record.get("Currency")) or currency
    active = record.get("Product_Active")
    return CatalogProduct(
        id=str(record["id"]),
        sku=text(record.get("Product_Code")) or "",
        name=text(record.get("Product_Name")) or "",
        active=True if active is None else bool(active),
        updated_at=_time(record, "Modified_Time"),
        description=text(record.get("Description")),
        uom=text(record.get("Usage_Unit")),
        list_price=money(record.get("Unit_Price"), currency),
        reorder_level=to_decimal(record.get("Reorder_Level")),
    )
