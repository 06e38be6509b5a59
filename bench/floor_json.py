"""The JSON the floor builds: the gateway's canonical shapes, written out by hand from the
raw Zoho CRM and ERPNext rows (same decimals, UTC instants, status vocabularies and rules)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from resolvers.canonical import (
    DEFAULT_ORDER_STATUSES,
    DEFAULT_SHIPMENT_STATUSES,
    DEFAULT_TRACKING_STATUSES,
    with_minor_units,
)

Json = dict[str, Any]
DOCSTATUS = {0: "DRAFT", 1: "BOOKED", 2: "CANCELLED"}


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def text(value: Any) -> str | None:
    """A trimmed non-empty string, else None (Zoho sends null, Frappe sends "")."""
    return (str(value).strip() or None) if value is not None else None


def _money(value: Any, currency: str) -> Json | None:
    if value in (None, ""):
        return None
    return {"amount": format(with_minor_units(_dec(value), currency), "f"), "currency": currency}


def _utc(value: str) -> str:
    moment = datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds") + "Z"


def orders(
    rows: list[Json],
    catalog: dict[str, Json],
    bins: list[Json],
    warehouses: dict[str, str],
    shipments: list[Json],
    mirrors: list[Json],
) -> list[Json]:
    """The workload JSON of `rows` (Zoho orders) joined to the ERP rows fetched for them."""
    stock: dict[str, list[Json]] = {}
    for row in sorted(bins, key=lambda b: str(b["warehouse"])):
        stock.setdefault(str(row["item_code"]), []).append(row)
    products = {sku: _product(sku, p, stock.get(sku, []), warehouses) for sku, p in catalog.items()}
    by_order: dict[str, list[Json]] = {}
    for shipment in shipments:
        by_order.setdefault(str(shipment["custom_crm_order_id"]), []).append(shipment)
    best: dict[str, Json] = {}
    for mirror in mirrors:
        key = str(mirror["custom_crm_order_id"])
        if key not in best or _rank(mirror) > _rank(best[key]):
            best[key] = mirror
    return [
        _order(r, products, by_order.get(str(r["id"]), []), best.get(str(r["id"]))) for r in rows
    ]


def lines(row: Json) -> list[tuple[str, Json]]:
    """(SKU, line) for each `Ordered_Items` row of a Zoho order."""
    return [
        (str(item["Product_Name"]["Product_Code"]), item) for item in row.get("Ordered_Items") or []
    ]


def _rank(mirror: Json) -> tuple[int, str]:
    return {1: 2, 0: 1, 2: 0}.get(int(mirror.get("docstatus") or 0), 0), str(
        mirror.get("modified") or ""
    )


def _warehouse(name: str, warehouses: dict[str, str]) -> Json:
    return {"id": name, "name": warehouses.get(name, name)}  # a Bin may name a retired warehouse


def _product(sku: str, row: Json, bins: list[Json], warehouses: dict[str, str]) -> Json:
    levels = [(b, _dec(b.get("actual_qty")), _dec(b.get("reserved_qty"))) for b in bins]
    return {
        "sku": sku,
        "name": text(row.get("Product_Name")) or "",
        "listPrice": _money(row.get("Unit_Price"), text(row.get("Currency")) or "USD"),
        "available": float(sum((on - res for _, on, res in levels), Decimal(0))),
        "stock": [
            {
                "warehouse": _warehouse(str(b["warehouse"]), warehouses),
                "onHand": float(on),
                "reserved": float(res),
                "available": float(on - res),
            }
            for b, on, res in levels
        ],
    }


def _shipment_status(row: Json) -> str:
    tracked = DEFAULT_TRACKING_STATUSES.get(str(row.get("tracking_status") or ""))
    if tracked is not None and row.get("docstatus") != 2:
        return tracked.name
    mapped = DEFAULT_SHIPMENT_STATUSES.get(str(row.get("status") or ""))
    return (
        mapped.name
        if mapped is not None
        else DOCSTATUS.get(int(row.get("docstatus") or 0), "DRAFT")
    )


def _shipment(row: Json) -> Json:
    totals: dict[str, Decimal] = {}
    for item in row["_items"]:
        totals[str(item["item_code"])] = totals.get(str(item["item_code"]), Decimal(0)) + _dec(
            item.get("qty")
        )
    return {
        "id": str(row["name"]),
        "carrier": text(row.get("carrier")),
        "status": _shipment_status(row),
        "trackingNumber": text(row.get("awb_number")) or text(row.get("shipment_id")),
        "lines": [{"sku": sku, "quantity": float(qty)} for sku, qty in totals.items()],
    }


def _fulfillment(mirror: Json | None, shipments: list[Json]) -> str:
    if mirror is None or int(mirror.get("docstatus") or 0) != 1:
        return "UNFULFILLED"
    delivered = _dec(mirror.get("per_delivered"))
    if delivered >= 100:
        live = [s["status"] for s in shipments if s["status"] != "CANCELLED"]
        return "DELIVERED" if live and all(s == "DELIVERED" for s in live) else "SHIPPED"
    return "PARTIALLY_SHIPPED" if delivered > 0 else "RESERVED"


def _order(
    row: Json, products: dict[str, Json], shipment_rows: list[Json], mirror: Json | None
) -> Json:
    currency = text(row.get("Currency")) or "USD"
    account = row.get("Account_Name")
    shipments = [_shipment(s) for s in shipment_rows]
    return {
        "id": str(row["id"]),
        "number": text(row.get("SO_Number")) or str(row["id"]),
        "status": DEFAULT_ORDER_STATUSES[str(row["Status"])].name,
        "placedAt": _utc(str(row["Created_Time"])),
        "total": _money(row.get("Grand_Total"), currency),
        "customer": {"id": str(account["id"]), "name": str(account["name"])} if account else None,
        "lines": [
            {
                "sku": sku,
                "quantity": float(_dec(item.get("Quantity"))),
                "unitPrice": _money(item.get("List_Price"), currency),
                "product": products.get(sku),
            }
            for sku, item in lines(row)
        ],
        "shipments": shipments,
        "fulfillment": _fulfillment(mirror, shipments),
    }
