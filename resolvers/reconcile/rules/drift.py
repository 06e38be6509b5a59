"""Category 4, drift: the same thing held differently by the two systems, after
normalisation (case, spacing, punctuation, country names vs ISO codes, postcode spacing).

- order_lines_differ: a live mirror's lines (SKU, quantity, rate) differ from its CRM order's
  lines, compared per SKU. A submitted Sales Order cannot be edited, so someone decides.
- customer_differs: a CRM account's name or shipping address differs from the ERP customer that
  points to it (its name and primary address). The CRM is the customer master: the repair
  writes the CRM's values to the ERP customer.
- product_differs: a CRM product's name or active flag differs from the ERP item's name and
  disabled flag. The CRM is the catalog master: the repair writes them to the ERP item.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from resolvers.records import ErpOrder, OrderLine, OrderStatus

from ..bundles import CustomerPair, OrderBundle, ProductPair, docstatus_name
from ..findings import Category, Difference, Finding, Fix, RecordRef, Rule, Severity
from ..normalise import address_differences, norm_name, norm_text, number

ORDER_LINES = Rule(
    Category.DRIFT,
    "order_lines_differ",
    Severity.WARNING,
    "A live ERP mirror's lines (SKU, quantity, rate) differ from its CRM order's lines.",
)
CUSTOMER = Rule(
    Category.DRIFT,
    "customer_differs",
    Severity.WARNING,
    "A customer's name or address differs between the CRM and the ERP.",
)
PRODUCT = Rule(
    Category.DRIFT,
    "product_differs",
    Severity.WARNING,
    "A product's name or active flag differs between the CRM and the ERP.",
)
RULES = (ORDER_LINES, CUSTOMER, PRODUCT)
_ZERO = Decimal(0)


def order_lines(bundle: OrderBundle) -> list[Finding]:
    order = bundle.order
    if order.status is OrderStatus.CANCELLED:
        return []  # a cancelled order's mirror is a mirror finding, whatever its lines
    crm = _per_sku(order.lines)
    found = []
    for mirror in bundle.live:
        differences = _line_differences(crm, mirror)
        if differences:
            found.append(_lines_finding(bundle, mirror, differences))
    return found


def _per_sku(lines: tuple[OrderLine, ...]) -> dict[str, tuple[Decimal, frozenset[Decimal]]]:
    quantity: dict[str, Decimal] = defaultdict(Decimal)
    rates: dict[str, set[Decimal]] = defaultdict(set)
    for line in lines:
        quantity[line.sku] += line.quantity
        rates[line.sku].add(line.unit_price.amount.normalize())
    return {sku: (qty, frozenset(rates[sku])) for sku, qty in quantity.items()}


def _line_differences(
    crm: dict[str, tuple[Decimal, frozenset[Decimal]]], mirror: ErpOrder
) -> list[Difference]:
    erp_qty: dict[str, Decimal] = defaultdict(Decimal)
    erp_rates: dict[str, set[Decimal]] = defaultdict(set)
    for line in mirror.lines:
        erp_qty[line.sku] += line.quantity
        if line.rate is not None:
            erp_rates[line.sku].add(line.rate.normalize())
    differences = []
    for sku in sorted(set(crm) | set(erp_qty)):
        qty, rates = crm.get(sku, (_ZERO, frozenset()))
        if qty != erp_qty.get(sku, _ZERO):
            differences.append(
                Difference(f"lines[{sku}].quantity", number(qty), number(erp_qty.get(sku, _ZERO)))
            )
        theirs = frozenset(erp_rates.get(sku, set()))
        if rates and theirs and rates != theirs:
            differences.append(Difference(f"lines[{sku}].rate", _rates(rates), _rates(theirs)))
    return differences


def _lines_finding(bundle: OrderBundle, mirror: ErpOrder, differences: list[Difference]) -> Finding:
    order = bundle.order
    what = "; ".join(f"{d.field} CRM {d.crm} vs ERP {d.erp}" for d in differences)
    return Finding(
        ORDER_LINES,
        (order.id, mirror.name),
        f"ERP mirror {mirror.name} ({docstatus_name(mirror)}) of CRM order {order.number} "
        f"differs from it: {what}.",
        (
            RecordRef("crm", "order", order.id, f"{order.number} ({order.status.value})"),
            RecordRef("erp", "sales_order", mirror.name, docstatus_name(mirror)),
        ),
        Fix(
            "Decide which side is right: amend the CRM order, or cancel the mirror and approve "
            "the order again so that it is mirrored from the CRM lines.",
            who="the order desk",
            why="a submitted ERP sales order cannot be edited, and whether the customer ordered "
            "what the CRM or the ERP says is a question for the people who took the order",
        ),
        tuple(differences),
    )


def customer(pair: CustomerPair) -> list[Finding]:
    account = pair.account
    found = []
    for erp in pair.customers:
        differences = []
        if norm_name(account.name) != norm_name(erp.customer_name):
            differences.append(Difference("name", account.name, erp.customer_name))
        primary = erp.address.address if erp.address else None
        differences += address_differences(account.shipping_address, primary)
        if not differences:
            continue
        fields = ", ".join(d.field for d in differences)
        found.append(
            Finding(
                CUSTOMER,
                (account.id, erp.name),
                f"CRM account {account.name!r} and ERP customer {erp.name!r} differ in {fields}.",
                (
                    RecordRef("crm", "customer", account.id, account.name),
                    RecordRef("erp", "erp_customer", erp.name, erp.customer_name),
                ),
                Fix(
                    f"Write the CRM account's name and shipping address to ERP customer "
                    f"{erp.name!r} (the CRM is the customer master).",
                    repair="copy_customer_to_erp",
                    targets=(erp.name,),
                ),
                tuple(differences),
            )
        )
    return found


def product(pair: ProductPair) -> list[Finding]:
    crm, erp = pair.product, pair.item
    if crm is None or erp is None:
        return []
    differences = []
    if norm_text(crm.name) != norm_text(erp.name):
        differences.append(Difference("name", crm.name, erp.name))
    if crm.active == erp.disabled:
        differences.append(
            Difference("active", str(crm.active).lower(), str(not erp.disabled).lower())
        )
    if not differences:
        return []
    fields = ", ".join(d.field for d in differences)
    return [
        Finding(
            PRODUCT,
            (pair.sku,),
            f"Product {pair.sku} differs between the CRM and the ERP in {fields}.",
            (
                RecordRef("crm", "product", pair.sku, crm.name),
                RecordRef("erp", "item", pair.sku, erp.name),
            ),
            Fix(
                f"Write the CRM product's name and active flag to ERP item {pair.sku} (the CRM "
                "is the catalog master).",
                repair="copy_product_to_erp",
                targets=(pair.sku,),
            ),
            tuple(differences),
        )
    ]


def _rates(rates: frozenset[Decimal]) -> str:
    return ", ".join(number(r) for r in sorted(rates))
