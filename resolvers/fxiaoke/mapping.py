"""Fxiaoke records (integration-notes §1.5) to canonical records.

Times are epoch milliseconds (to UTC datetimes); money and numbers are strings (to Decimals);
a lookup is `<field>` (the `_id`) plus `<field>__r` (the display name); a single-choice field
carries the option value, which describe labels and `order_statuses` maps by label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from resolvers.canonical import (
    EPOCH,
    country_code,
    money,
    text,
    to_decimal,
    to_decimal_or_zero,
    to_decimal_uncached,
)
from resolvers.columns import Wanted
from resolvers.errors import BackendRejected
from resolvers.fxiaoke.options import FxiaokeOptions
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
ON_SALE = "1"  # ProductObj.product_status option value for "on sale" (❓ demo tenant)

ACCOUNT_FIELDS = (
    "name",
    "account_no",
    "industry_level1",
    "url",
    "tel",
    "mc_currency",
    "address",
    "city",
    "province",
    "country",
    "create_time",
    "last_modified_time",
)
CONTACT_FIELDS = ("account_id", "email", "create_time")
ORDER_FIELDS = (
    "name",
    "account_id",
    "remark",
    "mc_currency",
    "product_amount",
    "order_amount",
    "create_time",
    "last_modified_time",
)
LINE_FIELDS = ("order_id", "product_id", "quantity", "sales_price", "subtotal")
PRODUCT_FIELDS = (
    "name",
    "product_code",
    "product_status",
    "price",
    "unit",
    "remark",
    "mc_currency",
    "last_modified_time",
)


def from_ms(value: Any) -> datetime:
    """Epoch milliseconds (an integer, or digits) as a UTC datetime; EPOCH when absent."""
    number = to_decimal_uncached(value)  # timestamps seldom repeat: kept out of the caches
    if number is None:
        return EPOCH
    try:
        return datetime.fromtimestamp(float(number) / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return EPOCH


def to_ms(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def to_customer(record: Record, *, email: str | None, options: FxiaokeOptions) -> Customer:
    currency = text(record.get("mc_currency")) or options.default_currency
    postcode = record.get(options.postcode_field) if options.postcode_field else None
    address = Address(
        street=text(record.get("address")),
        city=text(record.get("city")),
        region=text(record.get("province")),
        postal_code=text(postcode),
        country=country_code(text(record.get("country"))),
    )
    found = None if address == Address() else address
    credit = options.credit_limit_field
    return Customer(
        id=str(record["_id"]),
        name=text(record.get("name")) or "",
        created_at=from_ms(record.get("create_time")),
        updated_at=from_ms(record.get("last_modified_time")),
        number=text(record.get("account_no")),
        industry=text(record.get("industry_level1")),
        website=text(record.get("url")),
        email=email,
        phone=text(record.get("tel")),
        billing_address=found,
        shipping_address=found,
        credit_limit=money(record.get(credit), currency) if credit else None,
    )


def primary_emails(contacts: Sequence[Record]) -> dict[str, str]:
    """Account `_id` → the email of its earliest-created contact that has one."""
    best: dict[str, tuple[datetime, str, str]] = {}
    for contact in contacts:
        account, email = text(contact.get("account_id")), text(contact.get("email"))
        if account is None or email is None:
            continue
        rank = (from_ms(contact.get("create_time")), str(contact.get("_id", "")), email)
        if account not in best or rank < best[account]:
            best[account] = rank
    return {account: rank[2] for account, rank in best.items()}


def to_line(row: Record, currency: str, products: Mapping[str, CatalogProduct]) -> OrderLine:
    product_id = text(row.get("product_id"))
    product = products.get(product_id or "")
    quantity = to_decimal_or_zero(row.get("quantity"))
    price = to_decimal_or_zero(row.get("sales_price"))
    total = to_decimal(row.get("subtotal"))
    return OrderLine(
        sku=product.sku if product is not None else "",
        quantity=quantity,
        unit_price=Money(price, currency),
        total=Money(total if total is not None else price * quantity, currency),
        product_id=product_id,
        catalog=product,
    )


def order_status(
    value: Any, labels: Mapping[str, str], statuses: Mapping[str, OrderStatus], order_id: str
) -> OrderStatus:
    label = labels.get(str(value), str(value))
    status = statuses.get(label)
    if status is None:
        raise BackendRejected(
            f"Fxiaoke order {order_id} has status option {value!r} (label {label!r}), which "
            f"crm.order_statuses does not map (known: {', '.join(sorted(statuses))}); add it",
            system="crm",
        )
    return status


def needs_lines(record: Record, wanted: Wanted) -> bool:
    """Whether an order's `wanted` attributes need its lines: the lines themselves, or a
    subtotal or total the order lacks (then summed from the lines)."""
    if wanted is None or "lines" in wanted:
        return True
    subtotal_missing = record.get("product_amount") is None
    total_missing = subtotal_missing and record.get("order_amount") is None
    return ("subtotal" in wanted and subtotal_missing) or ("total" in wanted and total_missing)


def to_order(
    record: Record,
    lines: Sequence[Record],
    *,
    options: FxiaokeOptions,
    labels: Mapping[str, str],
    products: Mapping[str, CatalogProduct],
) -> Order:
    order_id = str(record["_id"])
    currency = text(record.get("mc_currency")) or options.default_currency
    items = tuple(to_line(row, currency, products) for row in lines)
    subtotal = to_decimal(record.get("product_amount"))
    if subtotal is None:
        subtotal = sum((line.total.amount for line in items), Decimal(0))
    tax = to_decimal_or_zero(record.get(options.tax_field)) if options.tax_field else Decimal(0)
    total = to_decimal(record.get("order_amount"))
    status = record.get(options.order_status_field)
    return Order(
        id=order_id,
        number=text(record.get("name")) or order_id,
        status=order_status(status, labels, options.order_statuses, order_id),
        customer_id=text(record.get("account_id")),
        lines=items,
        subtotal=Money(subtotal, currency),
        tax=Money(tax, currency),
        total=Money(total if total is not None else subtotal + tax, currency),
        placed_at=from_ms(record.get("create_time")),
        updated_at=from_ms(record.get("last_modified_time")),
        external_ref=text(record.get(options.external_ref_field)),
        subject=text(record.get("remark")),
        customer_name=text(record.get("account_id__r")),
    )


def to_product(record: Record, *, currency: str) -> CatalogProduct:
    currency = text(record.get("mc_currency")) or currency
    status = record.get("product_status")
    return CatalogProduct(
        id=str(record["_id"]),
        sku=text(record.get("product_code")) or "",
        name=text(record.get("name")) or "",
        active=True if status is None else str(status) == ON_SALE,
        updated_at=from_ms(record.get("last_modified_time")),
        description=text(record.get("remark")),
        uom=text(record.get("unit")),
        list_price=money(record.get("price"), currency),
    )
