"""The ERPNext side of the seed: company, warehouses, items, customers, mirrors, shipments.

Everything is derived from the CRM plan so that the systems agree; see `backends.seed` for the
deliberate exceptions. Names of documents and child rows are set here (not by the store), so
that the same inputs give byte-identical data.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from backends.seed_names import (
    ABBR,
    CARRIERS,
    COMPANY,
    EUR_PER_USD,
    GROUP_WAREHOUSE,
    LEAF_WAREHOUSES,
    ORPHAN_ACCOUNT_ID,
    ORPHAN_CUSTOMER,
    PLACES,
    TAX_RATE,
    Account,
    Order,
    Place,
    Product,
    awb_number,
    chunks,
    money,
    street,
)

if TYPE_CHECKING:
    from backends.erpnext.store import ErpStore


class ErpWriter:
    """Generates the ERPNext side from the CRM plan and inserts it in Frappe's native shape."""

    def __init__(self, store: ErpStore, rng: random.Random, now: datetime, counts: Counter[str]):
        self.store, self.rng, self.now, self.counts = store, rng, now, counts
        self.zone = store.tz
        self.series: Counter[str] = Counter()

    def write(self, accounts: list[Account], products: list[Product], orders: list[Order]) -> None:
        company = {"name": COMPANY, "company_name": COMPANY, "abbr": ABBR,
                   "default_currency": "USD", "country": "United States"}  # fmt: skip
        self._insert("Company", [company])
        self._warehouses()
        self._insert("UOM", [_uom(name, whole) for name, whole in UOMS])
        self._insert("Item", [self._item(p) for p in products])
        self._customers(accounts)
        shipped = [o for o in orders if o.status in ("Approved", "Delivered")]
        self._plan_deliveries(shipped)
        mirrored = [*shipped, *(o for o in orders[1:] if o.status == "Cancelled" and self._coin())]
        for chunk in chunks(sorted(mirrored, key=lambda o: o.number)):
            self._insert("Sales Order", [self._mirror(o) for o in chunk])
        self._deliveries(orders[0], [o for o in shipped if any(ln.delivered for ln in o.lines)])
        self._bins(products, shipped)

    def _warehouses(self) -> None:
        docs = [{"name": GROUP_WAREHOUSE, "warehouse_name": "All Warehouses", "is_group": 1,
                 "company": COMPANY}]  # fmt: skip
        for name, place in zip(LEAF_WAREHOUSES, _WAREHOUSE_PLACES, strict=True):
            short = name.removesuffix(f" - {ABBR}")
            docs.append({"name": name, "warehouse_name": short, "parent_warehouse": GROUP_WAREHOUSE,
                         "company": COMPANY, "warehouse_type": "Stores",
                         "city": place.city, "country": place.country})  # fmt: skip
        self._insert("Warehouse", docs)
        self._insert("Address", [
            self._address(f"{name.removesuffix(f' - {ABBR}')}-Warehouse", "Warehouse", place,
                          "Company", COMPANY)
            for name, place in zip(LEAF_WAREHOUSES, _WAREHOUSE_PLACES, strict=True)
        ])  # fmt: skip

    def _item(self, p: Product) -> dict[str, Any]:
        return {
            "item_code": p.sku, "item_name": p.name, "item_group": p.category,
            "stock_uom": "Nos", "description": f"{p.name} ({p.category.lower()})",
            "is_stock_item": 1, "valuation_rate": float(money(p.price * Decimal("0.6"))),
            "standard_rate": float(p.price), "weight_per_unit": round(self.rng.uniform(0.2, 30), 1),
            "reorder_levels": _reorder_levels(p.sku),
        }  # fmt: skip

    def _customers(self, accounts: list[Account]) -> None:
        docs, addresses = [], []
        for a in [*accounts, None]:
            name = a.name if a else ORPHAN_CUSTOMER
            place = a.place if a else PLACES[0]
            docs.append({"name": name, "customer_name": name, "customer_type": "Company",
                         "customer_group": "Commercial", "territory": place.country,
                         "default_currency": place.currency,
                         "custom_crm_account_id": a.id if a else ORPHAN_ACCOUNT_ID,
                         "customer_primary_address": f"{name}-Shipping"})  # fmt: skip
            address = self._address(f"{name}-Shipping", "Shipping", place, "Customer", name)
            if a is not None:  # the same street as the CRM account (the draw keeps the sequence)
                address["address_line1"] = a.street
            addresses.append(address)
        self._insert("Customer", docs)
        self._insert("Address", addresses)

    def _address(self, name: str, kind: str, place: Place, link: str, to: str) -> dict[str, Any]:
        return {
            "name": name, "address_title": name.rsplit("-", 1)[0], "address_type": kind,
            "address_line1": street(self.rng), "city": place.city, "state": place.state,
            "pincode": place.postcode, "country": place.country,
            "is_shipping_address": int(kind == "Shipping"),
            "links": [{"name": f"{name}-link", "link_doctype": link, "link_name": to}],
        }  # fmt: skip

    def _plan_deliveries(self, shipped: list[Order]) -> None:
        for o in shipped:
            if o.status == "Delivered":
                for ln in o.lines:
                    ln.delivered = ln.qty
            elif self.rng.random() < 0.3:  # partly shipped: half of each line, rounded down
                for ln in o.lines:
                    ln.delivered = ln.qty // 2

    def _mirror(self, o: Order) -> dict[str, Any]:
        o.mirror = self._name("SAL-ORD-", o.created)
        docstatus = 2 if o.status == "Cancelled" else 1
        delivered = sum(ln.delivered for ln in o.lines)
        total_qty = sum(ln.qty for ln in o.lines)
        per = round(100 * delivered / total_qty, 2)
        day = self._date(o.created)
        status = {2: "Cancelled"}.get(docstatus, "To Bill" if per >= 100 else "To Deliver and Bill")
        items = []
        for i, ln in enumerate(o.lines, start=1):
            ln.row = f"{o.number + 1:07d}{i:03d}"
            items.append({"name": ln.row, "item_code": ln.product.sku,
                          "item_name": ln.product.name, "uom": "Nos", "stock_uom": "Nos",
                          "conversion_factor": 1.0, "qty": float(ln.qty),
                          "stock_qty": float(ln.qty),
                          "rate": float(ln.rate), "amount": float(ln.amount),
                          "warehouse": o.warehouse, "delivery_date": self._date(o.due),
                          "delivered_qty": float(ln.delivered), "reserve_stock": 1})  # fmt: skip
        return {
            "name": o.mirror, "customer": o.account.name, "customer_name": o.account.name,
            "order_type": "Sales", "transaction_date": day, "delivery_date": self._date(o.due),
            "company": COMPANY, "currency": o.account.currency,
            "conversion_rate": 1.0 if o.account.currency == "USD" else float(1 / EUR_PER_USD),
            "po_no": o.external_ref, "set_warehouse": o.warehouse,
            "shipping_address_name": f"{o.account.name}-Shipping", "reserve_stock": 1,
            "docstatus": docstatus, "status": status, "per_delivered": per,
            "delivery_status": "Fully Delivered" if per >= 100 else
                               ("Partly Delivered" if per else "Not Delivered"),
            "billing_status": "Not Billed", "total_qty": float(total_qty),
            "total": float(o.sub_total), "net_total": float(o.sub_total),
            "grand_total": float(o.grand_total), "rounded_total": float(o.grand_total),
            "base_grand_total": float(o.grand_total), "custom_crm_order_id": o.id,
            "items": items, "creation": self._stamp(o.created), "modified": self._stamp(o.modified),
        }  # fmt: skip

    def _deliveries(self, cancelled: Order, delivered: list[Order]) -> None:
        # The mismatch comes first so that its Shipment is always SHIPMENT-00001. Its Delivery
        # Note ships every line but links no Sales Order: the CRM order was never mirrored.
        for ln in cancelled.lines:
            ln.delivered = ln.qty
        plan = [cancelled, *delivered]
        notes = [self._note(o, linked=o is not cancelled) for o in plan]
        ships = [self._shipment(o, n) for o, n in zip(plan, notes, strict=True)
                 if o is cancelled or self.rng.random() < 0.9]  # fmt: skip
        for note_chunk in chunks(notes):
            self._insert("Delivery Note", note_chunk)
        for ship_chunk in chunks(ships):
            self._insert("Shipment", ship_chunk)

    def _note(self, o: Order, *, linked: bool) -> dict[str, Any]:
        posted = min(self.now, o.created + timedelta(days=self.rng.randint(1, 10)))
        lines = [ln for ln in o.lines if ln.delivered]
        total = sum((ln.rate * ln.delivered for ln in lines), Decimal(0))
        grand = money(total * (1 + TAX_RATE[o.account.currency]))
        items = [{"item_code": ln.product.sku, "item_name": ln.product.name,
                  "qty": float(ln.delivered), "uom": "Nos", "stock_uom": "Nos",
                  "conversion_factor": 1.0, "stock_qty": float(ln.delivered),
                  "rate": float(ln.rate), "amount": float(ln.rate * ln.delivered),
                  "warehouse": o.warehouse, "name": f"{o.external_ref}-dn{i}",
                  **({"against_sales_order": o.mirror, "so_detail": ln.row} if linked else {})}
                 for i, ln in enumerate(lines, start=1)]  # fmt: skip
        return {
            "name": self._name("MAT-DN-", posted), "customer": o.account.name,
            "customer_name": o.account.name, "company": COMPANY,
            "posting_date": self._date(posted), "posting_time": "10:00:00",
            "set_warehouse": o.warehouse, "currency": o.account.currency, "po_no": o.external_ref,
            "shipping_address_name": f"{o.account.name}-Shipping", "status": "To Bill",
            "docstatus": 1, "total_qty": float(sum(ln.delivered for ln in lines)),
            "grand_total": float(grand), "custom_crm_order_id": o.id, "items": items,
            "creation": self._stamp(posted), "modified": self._stamp(posted),
        }  # fmt: skip

    def _shipment(self, o: Order, note: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        carrier = rng.choice(tuple(CARRIERS))
        services, url = CARRIERS[carrier]
        awb = awb_number(rng, carrier)
        picked = min(self.now, datetime.fromisoformat(note["posting_date"]).replace(tzinfo=UTC)
                     + timedelta(days=rng.randint(0, 2)))  # fmt: skip
        done = o.status == "Delivered"
        name = f"SHIPMENT-{self._next('SHIPMENT-'):05d}"
        parcels = [self._parcel(f"{name}-p{k}") for k in range(1, rng.randint(1, 3) + 1)]
        return {
            "name": name, "pickup_from_type": "Company",
            "pickup_company": COMPANY, "delivery_to_type": "Customer",
            "delivery_customer": o.account.name,
            "pickup_address_name": f"{o.warehouse.removesuffix(f' - {ABBR}')}-Warehouse",
            "delivery_address_name": f"{o.account.name}-Shipping",
            "delivery_contact_name": o.account.contact_name, "pickup_date": self._date(picked),
            "description_of_content": f"Goods for {o.external_ref}",
            "value_of_goods": note["grand_total"],
            "total_weight": round(sum(float(p["weight"]) * int(p["count"]) for p in parcels), 1),
            "shipment_amount": float(money(rng.uniform(12, 180))), "carrier": carrier,
            "carrier_service": rng.choice(services), "awb_number": awb,
            "tracking_url": url.format(awb=awb),
            "tracking_status": "Delivered" if done else "In Progress",
            "status": "Completed" if done else "Booked", "docstatus": 1,
            "custom_crm_order_id": o.id,
            "shipment_delivery_note": [{"name": f"{note['name']}-sdn",
                                        "delivery_note": note["name"],
                                        "grand_total": note["grand_total"]}],
            "shipment_parcel": parcels,
            "creation": self._stamp(picked), "modified": self._stamp(picked),
        }  # fmt: skip

    def _parcel(self, name: str) -> dict[str, Any]:
        rng = self.rng
        size = {"length": rng.randint(20, 120), "width": rng.randint(20, 80)}
        size["height"] = rng.randint(10, 80)
        return {"name": name, **size, "weight": round(rng.uniform(0.5, 40), 1),
                "count": rng.randint(1, 3)}  # fmt: skip

    def _bins(self, products: list[Product], shipped: list[Order]) -> None:
        reserved: Counter[tuple[str, str]] = Counter()
        for o in shipped:
            for ln in o.lines:
                reserved[ln.product.sku, o.warehouse] += ln.qty - ln.delivered
        docs = []
        for p in products:
            for wh in LEAF_WAREHOUSES:
                held = reserved[p.sku, wh]
                spare = 0 if self.rng.random() < 0.1 else self.rng.randint(5, 400)
                actual = held + spare
                rate = float(money(p.price * Decimal("0.6")))
                name = self._name("MAT-BIN-", self.now)
                docs.append({"name": name, "item_code": p.sku, "warehouse": wh,
                             "actual_qty": float(actual),
                             "reserved_qty": float(held), "projected_qty": float(spare),
                             "stock_uom": "Nos", "valuation_rate": rate,
                             "stock_value": round(actual * rate, 2)})  # fmt: skip
        self._insert("Bin", docs)

    def _insert(self, doctype: str, docs: Sequence[dict[str, Any]]) -> None:
        for doc in docs:  # master data predates the orders; the store would stamp "now"
            doc.setdefault("creation", self._stamp(self.now - timedelta(days=400)))
        self.counts[f"erpnext.{doctype}"] += len(self.store.insert(doctype, docs))

    def _name(self, prefix: str, moment: datetime) -> str:
        year = moment.astimezone(self.zone).year
        return f"{prefix}{year}-{self._next(f'{prefix}{year}'):05d}"

    def _next(self, series: str) -> int:
        self.series[series] += 1
        return self.series[series]

    def _coin(self) -> bool:
        return self.rng.random() < 0.5

    def _stamp(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S.%f")

    def _date(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).date().isoformat()


_WAREHOUSE_PLACES = (PLACES[11], PLACES[8], PLACES[5])  # Newark, Chicago, Rotterdam
# ERPNext's standard UOMs as its setup installs them (uom_data.json): "Nos" counts whole units.
UOMS = (("Nos", True), ("Unit", True), ("Box", True), ("Kg", False), ("Meter", False))


def _reorder_levels(sku: str) -> list[dict[str, Any]]:
    """Item Reorder rows for most of the SKU's warehouses (a level and a quantity to order),
    drawn from a generator of the SKU's own so that the seed's other data stays as it was."""
    rng = random.Random(f"reorder:{sku}")
    rows: list[dict[str, Any]] = []
    for warehouse in LEAF_WAREHOUSES:
        if rng.random() < 0.3:
            continue
        level = rng.randint(4, 30) * 5
        row: dict[str, Any] = {
            "name": f"{sku}-reorder-{len(rows) + 1}",
            "warehouse_group": warehouse,
        }
        row |= {"warehouse": warehouse, "material_request_type": "Purchase"}
        row |= {"warehouse_reorder_level": float(level), "warehouse_reorder_qty": level * 2.0}
        rows.append(row)
    return rows


def _uom(name: str, whole: bool) -> dict[str, Any]:
    return {"name": name, "uom_name": name, "must_be_whole_number": int(whole), "enabled": 1}
