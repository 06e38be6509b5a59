"""The seed in Fxiaoke's wire shape: the same accounts, products, orders and mismatches.

`seed_fxiaoke(store, erp)` runs the generator of `backends.seed` (same PRNG draws, so the
same data as the Zoho seed for the same `random_seed` and `scale`) with a writer that stores
Fxiaoke records: epoch-ms times, money as strings, lookups as `<field>` + `<field>__r`, order
lines as `SalesOrderProductObj` details. The ERP side is written as for Zoho, its crosswalks
carrying the Fxiaoke `_id`s.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from backends.fxiaoke.objects import CREDIT_LIMIT, EXTERNAL_REF, ORDER_STATUS, POSTCODE
from backends.fxiaoke.objects import ORDER_STATUS_OPTIONS as STATUS_VALUES
from backends.fxiaoke.store import FxStore
from backends.seed import CrmWriter, SeedReport, seed_crm
from backends.seed_names import Account, Order, Product, phone, street

if TYPE_CHECKING:
    from backends.erpnext.store import ErpStore

_OBJECTS = {
    "Accounts": "AccountObj",
    "Contacts": "ContactObj",
    "Products": "ProductObj",
    "Sales_Orders": "SalesOrderObj",
}
_STATUS_VALUE = {label: value for value, label in STATUS_VALUES.items()}
_LINES = "__lines"  # an order document's lines until they are stored as details
_TRANSIENT = ("First_Name", "Last_Name", _LINES)  # read back by the generator, not stored


def seed_fxiaoke(
    store: FxStore,
    erp: ErpStore,
    *,
    scale: float = 1.0,
    random_seed: int = 7,
    now: datetime | None = None,
) -> SeedReport:
    """Load both (empty) stores: the Fxiaoke tenant and the ERP that (almost) agrees with it."""

    def writer(rng: random.Random, at: datetime, counts: Counter[str]) -> CrmWriter:
        return FxiaokeWriter(store, rng, at, counts)

    return seed_crm(writer, erp, scale=scale, random_seed=random_seed, now=now)


def epoch_ms(moment: datetime) -> int:
    return int(moment.replace(microsecond=0).timestamp()) * 1000


class FxiaokeWriter(CrmWriter):
    """`CrmWriter` with Fxiaoke documents; draws from the PRNG in the same order."""

    def __init__(
        self, store: FxStore, rng: random.Random, now: datetime, counts: Counter[str]
    ) -> None:
        self.fx, self.rng, self.now, self.counts = store, rng, now, counts

    def _account_doc(self, a: Account) -> dict[str, Any]:
        rng = self.rng
        a.street = address = street(rng)  # the draws of CrmWriter._account_doc, in its order;
        # the ERP customer's primary address gets the same street (seed_erp)
        tel = phone(rng, a.place)
        credit = rng.choice((25_000, 50_000, 100_000, 250_000))
        stamp = epoch_ms(a.created)
        return {
            "name": a.name,
            "account_no": f"ACC-{a.number + 1:05d}",
            "account_type": "customer",
            "industry_level1": a.industry,
            "url": f"https://www.{a.domain}",
            "tel": tel,
            "mc_currency": a.currency,
            CREDIT_LIMIT: f"{credit}.00",
            "address": address,
            "city": a.place.city,
            "province": a.place.state,
            POSTCODE: a.place.postcode,
            "country": a.place.country,
            "create_time": stamp,
            "last_modified_time": stamp,
        }

    def _contact_doc(self, a: Account, first: str, last: str, email: str) -> dict[str, Any]:
        stamp = epoch_ms(a.created + timedelta(hours=1))
        return {
            "name": f"{first} {last}",
            "First_Name": first,
            "Last_Name": last,
            "email": email,
            "tel1": phone(self.rng, a.place),
            "account_id": a.id,
            "account_id__r": a.name,
            "city": a.place.city,
            "country": a.place.country,
            "create_time": stamp,
            "last_modified_time": stamp,
        }

    def _product_doc(self, p: Product) -> dict[str, Any]:
        stamp = epoch_ms(self.now - timedelta(days=400))
        return {
            "name": p.name,
            "product_code": p.sku,
            "category": p.category,
            "product_status": "1",
            "price": str(p.price),
            "unit": p.unit,
            "remark": f"{p.name} ({p.category.lower()}), sold per {p.unit.lower()}.",
            "mc_currency": "USD",
            "create_time": stamp,
            "last_modified_time": stamp,
        }

    def _order_doc(self, o: Order) -> dict[str, Any]:
        a = o.account
        lines = [
            {
                "product_id": ln.product.id,
                "product_id__r": ln.product.name,
                "quantity": str(ln.qty),
                "sales_price": str(ln.rate),
                "product_price": str(ln.rate),
                "discount": "0",
                "subtotal": str(ln.amount),
                "unit": ln.product.unit,
            }
            for ln in o.lines
        ]
        return {
            "remark": f"{a.name} order {o.external_ref}",
            "account_id": a.id,
            "account_id__r": a.name,
            "contact_id": a.contact_id,
            "contact_id__r": a.contact_name,
            ORDER_STATUS: _STATUS_VALUE[o.status],
            EXTERNAL_REF: o.external_ref,
            "order_time": epoch_ms(o.created),
            "delivery_date": epoch_ms(datetime.combine(o.due.date(), datetime.min.time(), UTC)),
            "mc_currency": a.currency,
            "product_amount": str(o.sub_total),
            "field_tax_amount__c": str(o.tax),
            "order_amount": str(o.grand_total),
            "field_ship_to_city__c": a.place.city,
            "field_ship_to_country__c": a.place.country,
            _LINES: lines,
            "create_time": epoch_ms(o.created),
            "last_modified_time": epoch_ms(o.modified),
        }

    def _insert(self, module: str, docs: Iterable[dict[str, Any]]) -> list[str]:
        api_name = _OBJECTS[module]
        stored, details = [], []
        for doc in docs:  # built one at a time: each draws from the PRNG in turn
            stored.append({k: v for k, v in doc.items() if k not in _TRANSIENT})
            details.append(doc.get(_LINES, []))
        ids = self.fx.insert(api_name, stored)
        self.counts[f"fxiaoke.{api_name}"] += len(ids)
        lines = []
        for order_id, record, rows in zip(ids, stored, details, strict=True):
            for row in rows:
                lines.append({**row, "order_id": order_id, "order_id__r": record.get("name")})
                lines[-1] |= {k: record[k] for k in ("create_time", "last_modified_time")}
        if lines:
            self.counts["fxiaoke.SalesOrderProductObj"] += len(
                self.fx.insert("SalesOrderProductObj", lines)
            )
        return ids


__all__ = ["FxiaokeWriter", "epoch_ms", "seed_fxiaoke"]
