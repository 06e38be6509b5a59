"""The floor: a small hand-written client that builds the workloads' JSON straight from the
two systems, with the fewest calls possible, each as early as its inputs allow.

For an order page it knows the order id up front, so the order, its shipments, its ERP mirror
and the warehouses are asked at once; products and bins follow the order, delivery-note
links and items follow the shipments: three round trips. The customer's name comes from the
order's `Account_Name` lookup, so it costs nothing. Frappe `in` filters carry every key in
one call (Frappe documents no cap); Zoho searches respect Zoho's 100-value cap.

With `batching=False` every keyed call becomes one call per key (still de-duplicated, still
concurrent): what the loaders would cost without batching, since they have no switch for it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import httpx

from bench.floor_json import Json, lines, orders, text

ORDER_FIELDS = "SO_Number,Status,Account_Name,Ordered_Items,Grand_Total,Currency,Created_Time"
PRODUCT_FIELDS = "Product_Name,Product_Code,Unit_Price,Currency"
ZOHO_IN_CAP = 100  # search `in` takes at most 100 values (dialects §A.5)


# A kept-alive connection the server closes as a request goes out fails with one of these
# before the server read anything; the gateway's requester tries such a read again, so the
# floor does too (once), or a loaded machine would end the run instead of slowing it.
STALE_CONNECTION = (httpx.ReadError, httpx.RemoteProtocolError)


async def send_read(
    client: httpx.AsyncClient, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    """A read, tried once more when its pooled connection turned out closed."""
    try:
        return await client.request(method, path, **kwargs)
    except STALE_CONNECTION:
        return await client.request(method, path, **kwargs)


class Floor(Protocol):
    """What the workloads ask of a floor client, whichever CRM it reads."""

    async def start(self) -> None: ...

    async def order_page(self, order_id: str) -> Json | None: ...

    async def order_list(self, first: int) -> list[Json]: ...


class ErpFloor:
    """The ERPNext half of a floor client: stock, warehouses, shipments and order mirrors, the
    same whichever CRM the orders come from. `erp` carries ERPNext's base URL."""

    def __init__(self, erp: httpx.AsyncClient, *, batching: bool = True) -> None:
        self.erp = erp
        self.batching = batching
        self._erp_headers = {"Authorization": "token crossdock-demo:crossdock-demo-secret"}

    async def _erp_rows(
        self, doctype: str, fields: Sequence[str], filters: list[Any], parent: str | None = None
    ) -> list[Json]:
        params = {
            "fields": json.dumps(list(fields)),
            "filters": json.dumps(filters),
            "order_by": "name asc",
            "limit_page_length": "0",
        }
        if parent:
            params["parent"] = parent
        reply = await send_read(
            self.erp, "GET", f"/api/resource/{doctype}", params=params, headers=self._erp_headers
        )
        reply.raise_for_status()
        return list(reply.json()["data"])

    async def _erp_in(
        self,
        doctype: str,
        field: str,
        keys: Iterable[str],
        fields: Sequence[str],
        parent: str | None = None,
        extra: list[Any] | None = None,
    ) -> list[Json]:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return []
        if self.batching:
            return await self._erp_rows(
                doctype, fields, [[field, "in", unique], *(extra or [])], parent
            )
        found = await asyncio.gather(
            *(
                self._erp_rows(doctype, fields, [[field, "=", k], *(extra or [])], parent)
                for k in unique
            )
        )
        return sorted((row for rows in found for row in rows), key=lambda r: str(r.get("name")))

    async def bins(self, skus: list[str]) -> list[Json]:
        """The Bin rows (stock per warehouse) of `skus`."""
        fields = ("item_code", "warehouse", "actual_qty", "reserved_qty")
        return await self._erp_in("Bin", "item_code", skus, fields)

    async def warehouses(self) -> dict[str, str]:
        rows = await self._erp_rows("Warehouse", ("name", "warehouse_name"), [["is_group", "=", 0]])
        return {str(r["name"]): text(r.get("warehouse_name")) or str(r["name"]) for r in rows}

    async def erp_joins(self, order_ids: list[str]) -> tuple[list[Json], list[Json]]:
        mirror_fields = ("name", "custom_crm_order_id", "docstatus", "per_delivered", "modified")
        return await asyncio.gather(
            self._shipments(order_ids),
            self._erp_in("Sales Order", "custom_crm_order_id", order_ids, mirror_fields),
        )

    async def _shipments(self, order_ids: list[str]) -> list[Json]:
        fields = (
            "name",
            "docstatus",
            "status",
            "tracking_status",
            "custom_crm_order_id",
            "carrier",
            "awb_number",
            "shipment_id",
        )
        shipments = await self._erp_in("Shipment", "custom_crm_order_id", order_ids, fields)
        links = await self._erp_in(
            "Shipment Delivery Note",
            "parent",
            (str(s["name"]) for s in shipments),
            ("parent", "delivery_note"),
            parent="Shipment",
        )
        items = await self._erp_in(
            "Delivery Note Item",
            "parent",
            (str(link["delivery_note"]) for link in links),
            ("parent", "item_code", "qty", "idx"),
            parent="Delivery Note",
        )
        for shipment in shipments:
            notes = {link["delivery_note"] for link in links if link["parent"] == shipment["name"]}
            shipment["_items"] = sorted(
                (i for i in items if i["parent"] in notes),
                key=lambda i: (str(i["parent"]), int(i.get("idx") or 0)),
            )
        return shipments


class FloorClient(ErpFloor):
    """Reads Zoho CRM and ERPNext directly. Clients carry each system's base URL."""

    def __init__(
        self, zoho: httpx.AsyncClient, erp: httpx.AsyncClient, *, batching: bool = True
    ) -> None:
        super().__init__(erp, batching=batching)
        self.zoho = zoho
        self._zoho_headers: dict[str, str] = {}

    async def start(self) -> None:
        """Get a Zoho access token once (the gateway, too, refreshes once an hour)."""
        form = {
            "grant_type": "refresh_token",
            "client_id": "crossdock-demo",
            "client_secret": "crossdock-demo-secret",
            "refresh_token": "crossdock-demo-refresh",
        }
        reply = await self.zoho.post("/oauth/v2/token", data=form)
        reply.raise_for_status()
        self._zoho_headers = {"Authorization": f"Zoho-oauthtoken {reply.json()['access_token']}"}

    # the workloads

    async def order_page(self, order_id: str) -> Json | None:
        warehouses = asyncio.ensure_future(self.warehouses())
        joins = asyncio.ensure_future(self.erp_joins([order_id]))
        rows = await self._zoho_rows(f"/crm/v8/Sales_Orders/{order_id}", {"fields": ORDER_FIELDS})
        catalog, bins = await self._catalog(rows)
        shipments, mirrors = await joins
        built = orders(rows, catalog, bins, await warehouses, shipments, mirrors)
        return built[0] if built else None

    async def order_list(self, first: int) -> list[Json]:
        warehouses = asyncio.ensure_future(self.warehouses())
        params = {
            "fields": ORDER_FIELDS,
            "per_page": str(first),
            "page": "1",
            "sort_by": "id",
            "sort_order": "desc",
        }
        rows = await self._zoho_rows("/crm/v8/Sales_Orders", params)
        (catalog, bins), (shipments, mirrors) = await asyncio.gather(
            self._catalog(rows), self.erp_joins([str(r["id"]) for r in rows])
        )
        return orders(rows, catalog, bins, await warehouses, shipments, mirrors)

    # fetching

    async def _zoho_rows(self, path: str, params: dict[str, str]) -> list[Json]:
        reply = await send_read(self.zoho, "GET", path, params=params, headers=self._zoho_headers)
        reply.raise_for_status()
        return list(reply.json()["data"]) if reply.status_code != 204 else []

    async def _products(self, skus: list[str]) -> dict[str, Json]:
        size = ZOHO_IN_CAP if self.batching else 1
        groups = [skus[i : i + size] for i in range(0, len(skus), size)]
        found = await asyncio.gather(
            *(
                self._zoho_rows(
                    "/crm/v8/Products/search",
                    {
                        "criteria": f"(Product_Code:in:{','.join(group)})",
                        "fields": PRODUCT_FIELDS,
                        "per_page": "200",
                    },
                )
                for group in groups
            )
        )
        wanted = set(skus)  # `in` is fuzzy on text fields (§A.5): keep exact matches only
        return {
            r["Product_Code"]: r for rows in found for r in rows if r.get("Product_Code") in wanted
        }

    async def _catalog(self, rows: list[Json]) -> tuple[dict[str, Json], list[Json]]:
        skus = list(dict.fromkeys(sku for row in rows for sku, _ in lines(row)))
        if not skus:
            return {}, []
        products, bins = await asyncio.gather(self._products(skus), self.bins(skus))
        return products, bins
