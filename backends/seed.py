"""Deterministic seed data for the two emulations: a CRM and an ERP that (almost) agree.

`seed(zoho, erp, scale=1)` loads about 200 Accounts with 1–2 Contacts each, 50 Products that
exist in both systems under the same SKU, the company "Acme Corp" (abbr "AC") with three
warehouses under "All Warehouses - AC" and a Bin per item × warehouse, 2,000 Sales_Orders
across every status, ERPNext Customers (crosswalk `custom_crm_account_id`), ERPNext Sales Order
mirrors (`custom_crm_order_id`; submitted for Approved/Delivered orders, cancelled for some
Cancelled ones), Delivery Notes for every Delivered order and for some Approved ones (partly
shipped), and Shipments for most of those, spread over DHL, UPS, FedEx and DPD. Scale
multiplies accounts and orders; products stay between 10 and 50. Same inputs, same data.

Deliberate mismatches (`MISMATCHES`), the kind real integrations suffer, for reconciliation:

- ``crm_product_without_item``: CRM product ``SKU-00999`` has no ERPNext Item.
- ``shipment_for_cancelled_order``: Shipment ``SHIPMENT-00001`` (and its Delivery Note)
  carries the `custom_crm_order_id` of a CRM order whose Status is Cancelled.
- ``dangling_customer_crosswalk``: ERPNext Customer ``Lost Horizon Imports Ltd`` has a
  `custom_crm_account_id` that is no CRM account.

Everything else agrees: mirror lines equal CRM lines (SKU, quantity, rate), delivered
quantities equal the Delivery Note quantities, and Bins are recomputed from the mirrors.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from backends.seed_erp import ErpWriter
from backends.seed_names import (
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    LEAF_WAREHOUSES,
    MISMATCH_SHIPMENT,
    ORPHAN_ACCOUNT_ID,
    ORPHAN_CUSTOMER,
    PLACES,
    UNMATCHED_SKU,
    USAGE_UNITS,
    Account,
    Line,
    Order,
    Product,
    chunks,
    company_name,
    money,
    phone,
    product_name,
    street,
)

if TYPE_CHECKING:
    from backends.erpnext.store import ErpStore
    from backends.zoho.store import ZohoStore

__all__ = ["MISMATCHES", "CrmWriter", "Mismatch", "SeedReport", "seed", "seed_crm"]

DEFAULT_NOW = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Mismatch:
    """A deliberate disagreement between the systems, keyed by the record that carries it."""

    kind: Literal[
        "crm_product_without_item", "shipment_for_cancelled_order", "dangling_customer_crosswalk"
    ]
    system: Literal["zoho", "erpnext"]
    key: str
    description: str


MISMATCHES: tuple[Mismatch, ...] = (
    Mismatch(
        "crm_product_without_item",
        "zoho",
        UNMATCHED_SKU,
        f"CRM product {UNMATCHED_SKU} (Product_Code) has no ERPNext Item",
    ),
    Mismatch(
        "shipment_for_cancelled_order",
        "erpnext",
        MISMATCH_SHIPMENT,
        f"Shipment {MISMATCH_SHIPMENT} ships a CRM order whose Status is Cancelled",
    ),
    Mismatch(
        "dangling_customer_crosswalk",
        "erpnext",
        ORPHAN_CUSTOMER,
        f"Customer {ORPHAN_CUSTOMER!r} has custom_crm_account_id {ORPHAN_ACCOUNT_ID}, "
        "which is no CRM account",
    ),
)


@dataclass(frozen=True)
class SeedReport:
    """What `seed` wrote: record counts per "system.Module", the mismatches, and the time taken."""

    counts: dict[str, int]
    mismatches: tuple[Mismatch, ...]
    seconds: float


_STATUSES = ("Created", "Pending Approval", "Approved", "Delivered", "Cancelled")
_STATUS_WEIGHTS = (15, 10, 25, 40, 10)


def seed(
    zoho: ZohoStore,
    erp: ErpStore,
    *,
    scale: float = 1.0,
    random_seed: int = 7,
    now: datetime | None = None,
) -> SeedReport:
    """Load both (empty) stores with consistent data; returns what was written."""

    def zoho_writer(rng: random.Random, at: datetime, counts: Counter[str]) -> CrmWriter:
        return CrmWriter(zoho, rng, at, counts)

    return seed_crm(zoho_writer, erp, scale=scale, random_seed=random_seed, now=now)


# Builds the CRM writer of one dialect from the generator's PRNG, clock and counters.
WriterFactory = Callable[[random.Random, datetime, Counter[str]], "CrmWriter"]


def seed_crm(
    writer: WriterFactory,
    erp: ErpStore,
    *,
    scale: float = 1.0,
    random_seed: int = 7,
    now: datetime | None = None,
) -> SeedReport:
    """`seed` with the CRM side written by `writer` (a `CrmWriter` of any CRM dialect): the
    same accounts, products, orders and mismatches, in that CRM's wire shape."""
    if not 0 < scale <= 100:
        raise ValueError(f"scale must be in (0, 100], got {scale}")
    started = time.perf_counter()
    counts: Counter[str] = Counter()
    crm = writer(random.Random(f"{random_seed}:crm"), now or DEFAULT_NOW, counts)
    accounts = crm.accounts(max(1, round(200 * scale)))
    products = crm.products(50 if scale >= 1 else max(10, round(50 * scale)))
    orders = crm.orders(max(1, round(2000 * scale)), accounts, products)
    erp_writer = ErpWriter(erp, random.Random(f"{random_seed}:erp"), now or DEFAULT_NOW, counts)
    erp_writer.write(accounts, products, orders)
    erp.recompute_bins()
    seconds = round(time.perf_counter() - started, 3)
    return SeedReport(counts=dict(sorted(counts.items())), mismatches=MISMATCHES, seconds=seconds)


class CrmWriter:
    """Generates the CRM side and inserts it in Zoho's wire shape. Another CRM's writer
    subclasses it and overrides the `_…_doc` methods and `_insert`, drawing from the PRNG
    exactly as these do, so both CRMs hold the same data."""

    def __init__(self, store: ZohoStore, rng: random.Random, now: datetime, counts: Counter[str]):
        self.store, self.rng, self.now, self.counts = store, rng, now, counts

    def accounts(self, n: int) -> list[Account]:
        rng, taken = self.rng, set[str]()
        accounts = []
        for i in range(n):
            place = rng.choice(PLACES)
            name = company_name(rng)
            name = name if name not in taken else f"{name} ({place.city} {i})"
            taken.add(name)
            created = self._past(365)
            accounts.append(Account(i, "", name, place, created, rng.choice(INDUSTRIES)))
        ids = self._insert("Accounts", (self._account_doc(a) for a in accounts))
        for account, account_id in zip(accounts, ids, strict=True):
            account.id = account_id
        self._contacts(accounts)
        return accounts

    def _account_doc(self, a: Account) -> dict[str, Any]:
        rng, domain = self.rng, a.domain
        a.street = street(rng)
        address = {"Street": a.street, "City": a.place.city, "State": a.place.state}
        address |= {"Code": a.place.postcode, "Country": a.place.country}
        return {
            "Account_Name": a.name,
            "Account_Number": f"ACC-{a.number + 1:05d}",
            "Account_Type": "Customer",
            "Industry": a.industry,
            "Website": f"https://www.{domain}",
            "Phone": phone(rng, a.place),
            "Currency": a.currency,
            "Credit_Limit": float(rng.choice((25_000, 50_000, 100_000, 250_000))),
            **{f"Billing_{k}": v for k, v in address.items()},
            **{f"Shipping_{k}": v for k, v in address.items()},
            "Created_Time": self._zoho_time(a.created),
            "Modified_Time": self._zoho_time(a.created),
        }

    def _contacts(self, accounts: list[Account]) -> None:
        docs: list[dict[str, Any]] = []
        owners: list[Account] = []
        for a in accounts:
            for _ in range(self.rng.randint(1, 2)):
                first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
                email = f"{first}.{last}.{len(docs) + 1}@{a.domain}".lower()
                docs.append(self._contact_doc(a, first, last, email))
                owners.append(a)
        ids = self._insert("Contacts", docs)
        for a, doc, contact_id in zip(owners, docs, ids, strict=True):
            if not a.contact_id:
                a.contact_id, a.contact_name = contact_id, f"{doc['First_Name']} {doc['Last_Name']}"

    def _contact_doc(self, a: Account, first: str, last: str, email: str) -> dict[str, Any]:
        stamp = self._zoho_time(a.created + timedelta(hours=1))
        return {
            "First_Name": first,
            "Last_Name": last,
            "Email": email,
            "Phone": phone(self.rng, a.place),
            "Account_Name": {"name": a.name, "id": a.id},
            "Mailing_City": a.place.city,
            "Mailing_Country": a.place.country,
            "Created_Time": stamp,
            "Modified_Time": stamp,
        }

    def products(self, n: int) -> list[Product]:
        rng = self.rng
        products = []
        for i in range(1, n + 1):
            name, category = product_name(rng, i)
            price = money(rng.uniform(8, 900))
            products.append(Product(f"SKU-{i:05d}", name, category, price, rng.choice(USAGE_UNITS)))
        extra = Product(UNMATCHED_SKU, "Legacy Pallet Jack M999", "Equipment", money(310), "Each")
        ids = self._insert("Products", (self._product_doc(p) for p in [*products, extra]))
        for product, product_id in zip(products, ids, strict=False):
            product.id = product_id
        return products

    def _product_doc(self, p: Product) -> dict[str, Any]:
        stamp = self._zoho_time(self.now - timedelta(days=400))
        return {
            "Product_Name": p.name,
            "Product_Code": p.sku,
            "Product_Category": p.category,
            "Product_Active": True,
            "Unit_Price": float(p.price),
            "Usage_Unit": p.unit,
            "Taxable": True,
            "Description": f"{p.name} ({p.category.lower()}), sold per {p.unit.lower()}.",
            "Currency": "USD",
            "Created_Time": stamp,
            "Modified_Time": stamp,
        }

    def orders(self, n: int, accounts: list[Account], products: list[Product]) -> list[Order]:
        rng = self.rng
        created = sorted(self._past(365) for _ in range(n))
        statuses = rng.choices(_STATUSES, _STATUS_WEIGHTS, k=n)
        statuses[0] = "Cancelled"  # the oldest order carries the cancelled-order mismatch
        orders = []
        for i, (status, at) in enumerate(zip(statuses, created, strict=True)):
            account = rng.choice(accounts)
            picked = rng.sample(products, k=min(len(products), rng.randint(1, 5)))
            lines = [Line(p, rng.randint(1, 20), account.price_of(p)) for p in picked]
            modified = min(self.now, at + timedelta(hours=rng.randint(0, 24 * 30)))
            warehouse = rng.choices(LEAF_WAREHOUSES, (5, 4, 1))[0]
            orders.append(
                Order(i, f"XD-{i + 1:07d}", status, account, lines, at, modified, warehouse)
            )
        for chunk in chunks(orders):
            ids = self._insert("Sales_Orders", [self._order_doc(o) for o in chunk])
            for order, order_id in zip(chunk, ids, strict=True):
                order.id = order_id
        return orders

    def _order_doc(self, o: Order) -> dict[str, Any]:
        a = o.account
        items = [
            {
                "Product_Name": {
                    "name": ln.product.name,
                    "id": ln.product.id,
                    "Product_Code": ln.product.sku,
                },
                "Quantity": ln.qty,
                "List_Price": float(ln.rate),
                "Discount": 0.0,
                "Total": float(ln.amount),
                "Net_Total": float(ln.amount),
                "Sequence_Number": n,
            }
            for n, ln in enumerate(o.lines, start=1)
        ]
        shipping = {"City": a.place.city, "State": a.place.state, "Code": a.place.postcode}
        shipping["Country"] = a.place.country
        return {
            "Subject": f"{a.name} order {o.external_ref}",
            "Account_Name": {"name": a.name, "id": a.id},
            "Contact_Name": {"name": a.contact_name, "id": a.contact_id},
            "Status": o.status,
            "External_Ref": o.external_ref,
            "Due_Date": o.due.date().isoformat(),
            "Currency": a.currency,
            "Sub_Total": float(o.sub_total),
            "Discount": 0.0,
            "Tax": float(o.tax),
            "Adjustment": 0.0,
            "Grand_Total": float(o.grand_total),
            **{f"Billing_{k}": v for k, v in shipping.items()},
            **{f"Shipping_{k}": v for k, v in shipping.items()},
            "Ordered_Items": items,
            "Created_Time": self._zoho_time(o.created),
            "Modified_Time": self._zoho_time(o.modified),
        }

    def _insert(self, module: str, docs: Iterable[dict[str, Any]]) -> list[str]:
        ids = self.store.insert(module, docs)
        self.counts[f"zoho.{module}"] += len(ids)
        return ids

    def _past(self, days: int) -> datetime:
        return self.now - timedelta(seconds=self.rng.randrange(days * 86_400))

    def _zoho_time(self, moment: datetime) -> str:
        return moment.astimezone(self.store.clock.zone).replace(microsecond=0).isoformat()
