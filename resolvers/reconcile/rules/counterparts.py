"""Category 1, missing counterparts: a record one system needs the other to hold.

- product_without_item (error): an active CRM product whose SKU is no ERP Item (it cannot be
  ordered through Crossdock: validation refuses a SKU without an ERP item); repaired by
  creating the item from the CRM product (code, name, description, unit, `[scm] item_group`).
- item_without_product: an enabled ERP Item whose SKU is no CRM product.
- account_without_customer: a CRM account with open (not cancelled) orders and no ERP
  Customer whose `custom_crm_account_id` names it; repaired by creating that customer.
- customer_without_account: an ERP Customer whose `custom_crm_account_id` names no CRM account.
"""

from __future__ import annotations

from collections.abc import Sequence

from resolvers.records import Customer, ErpCustomer, Item, Order, OrderStatus

from ..bundles import ProductPair
from ..findings import Category, Difference, Finding, Fix, RecordRef, Rule, Severity

PRODUCT_WITHOUT_ITEM = Rule(
    Category.COUNTERPARTS,
    "product_without_item",
    Severity.ERROR,
    "An active CRM product has no ERP item with its SKU.",
)
ITEM_WITHOUT_PRODUCT = Rule(
    Category.COUNTERPARTS,
    "item_without_product",
    Severity.WARNING,
    "An enabled ERP item has no CRM product with its SKU.",
)
ACCOUNT_WITHOUT_CUSTOMER = Rule(
    Category.COUNTERPARTS,
    "account_without_customer",
    Severity.WARNING,
    "A CRM account with open orders has no ERP customer (custom_crm_account_id).",
)
CUSTOMER_WITHOUT_ACCOUNT = Rule(
    Category.COUNTERPARTS,
    "customer_without_account",
    Severity.WARNING,
    "An ERP customer's custom_crm_account_id names no CRM account.",
)
RULES = (
    PRODUCT_WITHOUT_ITEM,
    ITEM_WITHOUT_PRODUCT,
    ACCOUNT_WITHOUT_CUSTOMER,
    CUSTOMER_WITHOUT_ACCOUNT,
)
_CATALOG_OWNER = "the product data steward (catalog owner in the CRM and item master in the ERP)"
_SHOWN_ORDERS = 5


def product_without_item(pair: ProductPair) -> list[Finding]:
    product = pair.product
    if product is None or not product.active or pair.item is not None:
        return []
    return [
        Finding(
            PRODUCT_WITHOUT_ITEM,
            (pair.sku,),
            f"CRM product {pair.sku} ({product.name}) is active but the ERP has no item "
            f"{pair.sku}: orders for it cannot be mirrored or reserved.",
            (RecordRef("crm", "product", pair.sku, product.name),),
            Fix(
                f"Create ERP item {pair.sku} from the CRM product (crossdock reconcile --fix "
                "product_without_item --apply does), or deactivate the CRM product; catalog "
                "owners decide which.",
                repair="create_erp_item",
                targets=(pair.sku,),
            ),
            (Difference("item", pair.sku, None),),
        )
    ]


def item_without_product(item: Item) -> list[Finding]:
    if item.disabled:
        return []
    return [
        Finding(
            ITEM_WITHOUT_PRODUCT,
            (item.sku,),
            f"ERP item {item.sku} ({item.name}) is enabled but the CRM has no product "
            f"{item.sku}: it cannot be sold through the CRM.",
            (RecordRef("erp", "item", item.sku, item.name),),
            Fix(
                f"Add product {item.sku} to the CRM catalog or disable the ERP item.",
                who=_CATALOG_OWNER,
                why="whether an item is for sale, and at which list price, is a sales decision",
            ),
            (Difference("product", None, item.sku),),
        )
    ]


def account_without_customer(
    account: Customer, orders: Sequence[Order], total: int | None = None
) -> list[Finding]:
    """`orders` are (some of) the account's orders; `total` counts its open ones when
    `orders` shows only the first few."""
    open_orders = [o for o in orders if o.status is not OrderStatus.CANCELLED]
    if not open_orders:
        return []
    count = max(total or 0, len(open_orders))
    shown = ", ".join(o.number for o in open_orders[:_SHOWN_ORDERS])
    more = count - min(len(open_orders), _SHOWN_ORDERS)
    listed = shown + (f" and {more} more" if more > 0 else "")
    return [
        Finding(
            ACCOUNT_WITHOUT_CUSTOMER,
            (account.id,),
            f"CRM account {account.name} has {count} open order(s) ({listed}) but no "
            "ERP customer points to it: its orders cannot be mirrored.",
            (
                RecordRef("crm", "customer", account.id, account.name),
                *(RecordRef("crm", "order", o.id, o.number) for o in open_orders[:_SHOWN_ORDERS]),
            ),
            Fix(
                f"Create the ERP customer {account.name!r} with custom_crm_account_id "
                f"{account.id}, as the order process does.",
                repair="create_erp_customer",
            ),
            (Difference("custom_crm_account_id", account.id, None),),
        )
    ]


def customer_without_account(customer: ErpCustomer) -> list[Finding]:
    account_id = customer.crm_account_id or ""
    return [
        Finding(
            CUSTOMER_WITHOUT_ACCOUNT,
            (customer.name,),
            f"ERP customer {customer.customer_name!r} has custom_crm_account_id {account_id}, "
            "which is no CRM account.",
            (RecordRef("erp", "erp_customer", customer.name, customer.customer_name),),
            Fix(
                "Point the customer's custom_crm_account_id at the right CRM account, or clear "
                "it if the customer is ERP-only.",
                who="the ERP customer master's owner (with sales, who know the account)",
                why="Crossdock cannot tell which CRM account, if any, this customer is: the "
                "account may have been deleted or merged",
            ),
            (Difference("custom_crm_account_id", None, account_id),),
        )
    ]
