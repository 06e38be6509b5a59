"""A person editing the CRM through its own API, in either dialect, for the sync tests.

The inbound and sync tests change CRM records the way a user (or another integration) does,
then check what Crossdock made of it. The edits are the same in both CRMs, each written in
its own dialect: Zoho's Records API (`PUT /crm/v8/{module}/{id}`) or Fxiaoke's
`POST /cgi/crm/v2/data/update` with legacy auth in the body.

    user = await crm_user("fxiaoke", client)
    ids = await user.ids("account", 5)
    await user.edit_account(ids[0], 0)
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import httpx

from backends.fxiaoke.objects import ORDER_STATUS, ORDER_STATUS_OPTIONS, POSTCODE
from tests.support.fxiaoke_emulation import FxCaller, legacy_auth
from tests.support.zoho_emulation import token_for as zoho_token

Entity = Literal["account", "product", "order"]
COUNTRIES = ("Germany", "France", "United States")
ZOHO_MODULES = {"account": "Accounts", "product": "Products", "order": "Sales_Orders"}
REFUSED_BEFORE = (50009, 14001, 30004)  # injected faults: busy, per-interface, per-second
FX_OBJECTS = {"account": "AccountObj", "product": "ProductObj", "order": "SalesOrderObj"}
FX_MODULES = {"Accounts": "AccountObj", "Products": "ProductObj", "Sales_Orders": "SalesOrderObj"}
# Zoho's fields as the tests write them -> the Fxiaoke demo tenant's. An account has one
# address in Fxiaoke (the connector gives it as both billing and shipping): Billing_* fields
# write it, Shipping_* ones only when no Billing_* counterpart is given.
FX_FIELDS = {
    "Account_Name": "name",
    "Billing_Street": "address",
    "Billing_City": "city",
    "Billing_State": "province",
    "Billing_Code": POSTCODE,
    "Billing_Country": "country",
    "Product_Name": "name",
    "Product_Code": "product_code",
    "Description": "remark",
    "Unit_Price": "price",
    "Usage_Unit": "unit",
    "Phone": "tel",
}


def fx_values(values: dict[str, Any]) -> dict[str, Any]:
    """Zoho-named values in the Fxiaoke demo tenant's fields and formats."""
    found: dict[str, Any] = {}
    for key, value in values.items():
        billing = "Billing_" + key.removeprefix("Shipping_")
        if key.startswith("Shipping_") and billing not in values:
            key = billing
        if key == "Product_Active":
            found["product_status"] = "1" if value else "2"
        elif key == "Status":
            found[ORDER_STATUS] = next(v for v, n in ORDER_STATUS_OPTIONS.items() if n == value)
        elif key in FX_FIELDS:
            found[FX_FIELDS[key]] = str(value) if key == "Unit_Price" else value
    return found


class CrmUser(Protocol):
    kind: str

    async def ids(self, entity: Entity, n: int) -> list[str]: ...
    async def edit_account(self, record_id: str, i: int) -> None: ...
    async def edit_product(self, record_id: str, i: int) -> None: ...
    async def set_order_status(self, record_id: str, label: str) -> None: ...
    async def set_city(self, record_id: str, city: str) -> None: ...


class ZohoUser:
    kind = "zoho"

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def ids(self, entity: Entity, n: int) -> list[str]:
        params = {"fields": "id", "per_page": n}
        listed = await self.client.get(f"/crm/v8/{ZOHO_MODULES[entity]}", params=params)
        return [row["id"] for row in listed.json()["data"]][:n]

    async def _put(self, entity: Entity, record_id: str, values: dict[str, Any]) -> None:
        path = f"/crm/v8/{ZOHO_MODULES[entity]}/{record_id}"
        reply = await self.client.put(path, json={"data": [values]})
        assert reply.is_success, reply.text

    async def edit_account(self, record_id: str, i: int) -> None:
        await self._put(
            "account",
            record_id,
            {
                "Account_Name": f"Converged Account {i}",
                "Billing_Street": f"{i} Market Street",
                "Billing_City": f"Billing City {i}",
                "Billing_Code": f"{10000 + i}",
                "Billing_Country": COUNTRIES[i % 3],
                "Shipping_Street": f"{i} Dock Road",
                "Shipping_City": f"Shipping City {i}",
                "Shipping_Code": f"{20000 + i}",
                "Shipping_Country": COUNTRIES[(i + 1) % 3],
            },
        )

    async def edit_product(self, record_id: str, i: int) -> None:
        await self._put(
            "product",
            record_id,
            {
                "Product_Name": f"Converged Product {i}",
                "Description": f"revised {i}",
                "Product_Active": i % 2 == 0,
            },
        )

    async def set_order_status(self, record_id: str, label: str) -> None:
        await self._put("order", record_id, {"Status": label})

    async def set_city(self, record_id: str, city: str) -> None:
        await self._put("account", record_id, {"Billing_City": city, "Shipping_City": city})


class FxiaokeUser:
    """Fxiaoke has one address per account (the connector gives it as billing and shipping)."""

    kind = "fxiaoke"

    def __init__(self, caller: FxCaller) -> None:
        self.caller = caller

    async def ids(self, entity: Entity, n: int) -> list[str]:
        info = {"limit": n, "offset": 0, "fieldProjection": ["_id"]}
        data = {"dataObjectApiName": FX_OBJECTS[entity], "search_query_info": info}
        reply = await self._call("/cgi/crm/v2/data/query", data)
        return [row["_id"] for row in reply["data"]["dataList"]][:n]

    async def _update(self, entity: Entity, record_id: str, values: dict[str, Any]) -> None:
        record = {"dataObjectApiName": FX_OBJECTS[entity], "_id": record_id, **values}
        await self._call("/cgi/crm/v2/data/update", {"object_data": record})

    async def _call(self, path: str, data: Any) -> dict[str, Any]:
        """A user tries again when the tenant is busy or throttles (the emulation's fault
        knobs refuse before processing, so trying again is safe)."""
        for _ in range(100):
            reply = await self.caller.call(path, data)
            if reply["errorCode"] not in REFUSED_BEFORE:
                break
        assert reply["errorCode"] == 0, reply
        return reply

    async def edit_account(self, record_id: str, i: int) -> None:
        await self._update(
            "account",
            record_id,
            {
                "name": f"Converged Account {i}",
                "address": f"{i} Market Street",
                "city": f"City {i}",
                POSTCODE: f"{10000 + i}",
                "country": COUNTRIES[i % 3],
            },
        )

    async def edit_product(self, record_id: str, i: int) -> None:
        await self._update(
            "product",
            record_id,
            {
                "name": f"Converged Product {i}",
                "remark": f"revised {i}",
                "product_status": "1" if i % 2 == 0 else "2",
            },
        )

    async def set_order_status(self, record_id: str, label: str) -> None:
        value = next(v for v, name in ORDER_STATUS_OPTIONS.items() if name == label)
        await self._update("order", record_id, {ORDER_STATUS: value})

    async def set_city(self, record_id: str, city: str) -> None:
        await self._update("account", record_id, {"city": city})


async def crm_user(kind: str, client: httpx.AsyncClient) -> CrmUser:
    """A signed-in user of the CRM emulation `client` reaches."""
    if kind == "fxiaoke":
        return FxiaokeUser(FxCaller(client, await legacy_auth(client)))
    client.headers["Authorization"] = f"Zoho-oauthtoken {await zoho_token(client)}"
    return ZohoUser(client)
