"""The floor over Fxiaoke: the workloads' JSON straight from Fxiaoke and ERPNext, fewest calls.

Fxiaoke order records do not embed their lines, and lines name their product by `_id` only,
so the SKUs (which key the ERP's stock) cost two hops: orders and their lines are asked at
once for an order page (for a list, lines follow the orders), then the lines' products, then
the Bins of their SKUs. Warehouses, shipments and order mirrors are asked as soon as the
order ids are known, beside the CRM hops. Every CRM call is a POST of JSON carrying the
legacy corpAccessToken; `IN` filters carry at most 100 values and pages are at most 100 rows,
paged by `_id` (offset stays 0), as the documentation allows.

The Fxiaoke rows are written into the shape the Zoho floor builds from (`bench.floor_json`),
so both floors share one JSON builder, and the gateway's answer is checked against either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.floor import ErpFloor, send_read
from bench.floor_json import Json, orders, text

TOKEN = "/cgi/corpAccessToken/get/V2"
QUERY = "/cgi/crm/v2/data/query"
DESCRIBE = "/cgi/crm/v2/object/describe"
LIMIT = 100  # rows per page and values per IN filter (Fxiaoke's documented maximum)
ORDER_FIELDS = ("name", "account_id", "mc_currency", "order_amount", "create_time")
STATUS_FIELD = "field_order_status__c"  # the demo tenant's custom status field
LINE_FIELDS = ("order_id", "product_id", "quantity", "sales_price")
PRODUCT_FIELDS = ("name", "product_code", "price", "mc_currency")
DEMO_APP = {
    "appId": "FSAID_crossdock_demo",
    "appSecret": "crossdock-demo-secret",
    "permanentCode": "crossdock-demo-permanent",
}
DEMO_USER = "FSUID_CROSSDOCK_ADMIN"


class FxiaokeFloor(ErpFloor):
    """Reads Fxiaoke and ERPNext directly. Clients carry each system's base URL."""

    def __init__(
        self, crm: httpx.AsyncClient, erp: httpx.AsyncClient, *, batching: bool = True
    ) -> None:
        super().__init__(erp, batching=batching)
        self.crm = crm
        self._auth: dict[str, str] = {}
        self._labels: dict[str, str] = {}

    async def start(self) -> None:
        """The token once (it lives two hours) and the status options' labels (describe)."""
        reply = await self._post(TOKEN, DEMO_APP)
        self._auth = {
            "corpAccessToken": reply["corpAccessToken"],
            "corpId": reply["corpId"],
            "currentOpenUserId": DEMO_USER,
        }
        described = await self._post(DESCRIBE, {**self._auth, "apiName": "SalesOrderObj"})
        options = described["data"]["describe"]["fields"][STATUS_FIELD]["options"]
        self._labels = {str(o["value"]): str(o["label"]) for o in options}

    # the workloads

    async def order_page(self, order_id: str) -> Json | None:
        warehouses = asyncio.ensure_future(self.warehouses())
        joins = asyncio.ensure_future(self.erp_joins([order_id]))
        rows, line_rows = await asyncio.gather(
            self._query("SalesOrderObj", [_flt("_id", "EQ", [order_id])], ORDER_FIELDS, 1),
            self._lines([order_id]),
        )
        return next(iter(await self._build(rows, line_rows, warehouses, joins)), None)

    async def order_list(self, first: int) -> list[Json]:
        warehouses = asyncio.ensure_future(self.warehouses())
        rows = await self._newest_orders(first)
        joins = asyncio.ensure_future(self.erp_joins([str(r["_id"]) for r in rows]))
        line_rows = await self._lines([str(r["_id"]) for r in rows])
        return await self._build(rows, line_rows, warehouses, joins)

    async def _build(
        self,
        rows: list[Json],
        line_rows: list[Json],
        warehouses: asyncio.Future[dict[str, str]],
        joins: asyncio.Future[tuple[list[Json], list[Json]]],
    ) -> list[Json]:
        products = await self._products([str(line["product_id"]) for line in line_rows])
        skus = {pid: str(p["product_code"]) for pid, p in products.items()}
        bins = await self.bins(list(dict.fromkeys(skus.values())))
        catalog = {
            str(p["product_code"]): {
                "Product_Name": p.get("name"),
                "Unit_Price": p.get("price"),
                "Currency": text(p.get("mc_currency")) or "USD",
            }
            for p in products.values()
        }
        by_order: dict[str, list[Json]] = {}
        for line in line_rows:
            by_order.setdefault(str(line["order_id"]), []).append(line)
        zoho_shaped = [self._as_zoho(r, by_order.get(str(r["_id"]), []), skus) for r in rows]
        shipments, mirrors = await joins
        return orders(zoho_shaped, catalog, bins, await warehouses, shipments, mirrors)

    def _as_zoho(self, row: Json, line_rows: list[Json], skus: dict[str, str]) -> Json:
        """An order in the shape `bench.floor_json` reads (Zoho's), from Fxiaoke's rows."""
        account = row.get("account_id")
        placed = datetime.fromtimestamp(int(row["create_time"]) / 1000, UTC)
        return {
            "id": row["_id"],
            "SO_Number": row.get("name"),
            "Status": self._labels[str(row[STATUS_FIELD])],
            "Account_Name": {"id": account, "name": row.get("account_id__r")} if account else None,
            "Ordered_Items": [
                {
                    "Product_Name": {"Product_Code": skus[str(line["product_id"])]},
                    "Quantity": line.get("quantity"),
                    "List_Price": line.get("sales_price"),
                }
                for line in line_rows
            ],
            "Grand_Total": row.get("order_amount"),
            "Currency": row.get("mc_currency"),
            "Created_Time": placed.isoformat(),
        }

    # fetching

    async def _newest_orders(self, first: int) -> list[Json]:
        rows: list[Json] = []
        while len(rows) < first:
            bound = [_flt("_id", "LT", [rows[-1]["_id"]])] if rows else []
            want = min(first - len(rows), LIMIT)
            page = await self._query("SalesOrderObj", bound, ORDER_FIELDS, want, ascending=False)
            rows += page
            if len(page) < want:
                break
        return rows

    async def _lines(self, order_ids: list[str]) -> list[Json]:
        return await self._keyed("SalesOrderProductObj", "order_id", order_ids, LINE_FIELDS)

    async def _products(self, product_ids: list[str]) -> dict[str, Json]:
        rows = await self._keyed("ProductObj", "_id", product_ids, PRODUCT_FIELDS)
        return {str(r["_id"]): r for r in rows}

    async def _keyed(
        self, api_name: str, field: str, keys: Sequence[str], projection: Sequence[str]
    ) -> list[Json]:
        """Every row whose `field` is one of `keys`: an IN filter per 100 keys (one key per
        call with batching off), each paged by `_id GT` until a short page."""
        unique = list(dict.fromkeys(keys))
        size = LIMIT if self.batching else 1
        groups = [unique[i : i + size] for i in range(0, len(unique), size)]
        found = await asyncio.gather(
            *(self._all(api_name, [_flt(field, "IN", group)], projection) for group in groups)
        )
        return sorted((row for rows in found for row in rows), key=lambda r: str(r["_id"]))

    async def _all(
        self, api_name: str, filters: list[Json], projection: Sequence[str]
    ) -> list[Json]:
        rows: list[Json] = []
        while True:
            after = [_flt("_id", "GT", [rows[-1]["_id"]])] if rows else []
            page = await self._query(api_name, [*filters, *after], projection, LIMIT)
            rows += page
            if len(page) < LIMIT:
                return rows

    async def _query(
        self,
        api_name: str,
        filters: list[Json],
        projection: Sequence[str],
        limit: int,
        *,
        ascending: bool = True,
    ) -> list[Json]:
        fields = [*projection, STATUS_FIELD] if api_name == "SalesOrderObj" else list(projection)
        info = {
            "limit": limit,
            "offset": 0,
            "filters": filters,
            "orders": [{"fieldName": "_id", "isAsc": ascending}],
            "fieldProjection": fields,
        }
        data = {"dataObjectApiName": api_name, "search_query_info": info}
        reply = await self._post(QUERY, {**self._auth, "data": data})
        return list(reply["data"]["dataList"])

    async def _post(self, path: str, body: Json) -> Any:
        reply = await send_read(self.crm, "POST", path, json=body)  # queries only read
        reply.raise_for_status()
        answer = reply.json()
        if answer.get("errorCode") != 0:  # HTTP 200 carries Fxiaoke's errors too
            raise RuntimeError(f"Fxiaoke {path}: errorCode {answer.get('errorCode')}")
        return answer


def _flt(field: str, operator: str, values: Sequence[str]) -> Json:
    return {"field_name": field, "field_values": [str(v) for v in values], "operator": operator}
