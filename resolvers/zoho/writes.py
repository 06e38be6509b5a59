"""The order saga's writes to Zoho CRM: an idempotent order insert and status changes.

`ZohoCRM` inherits them; they use only its reads (`find_order`, `get_orders`), its wire and
its options, as `_CrmReads` spells out.

    order, created = await crm.upsert_order(external_ref="proc-1", subject="…", …)
    await crm.set_order_status(order.id, "Approved")
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol

from resolvers.errors import BackendRejected, InvalidInput
from resolvers.records import Order
from resolvers.zoho.wire import Record, ZohoWire, duplicate_of, write_results, zoho_id


class _Options(Protocol):
    @property
    def external_ref_field(self) -> str | None: ...


class _CrmReads(Protocol):
    """What the writes need of the connector."""

    @property
    def wire(self) -> ZohoWire: ...
    @property
    def options(self) -> _Options: ...
    async def find_order(
        self, *, number: str | None = None, external_ref: str | None = None
    ) -> Order | None: ...
    async def get_orders(self, ids: Sequence[str]) -> dict[str, Order]: ...


class ZohoOrderWrites:
    """Order writes for the order saga, mixed into `ZohoCRM`."""

    async def upsert_order(
        self: _CrmReads,
        *,
        external_ref: str,
        subject: str,
        account_id: str,
        status: str,
        lines: Sequence[tuple[str, Decimal, Decimal]],
        currency: str,
        notes: str | None = None,
    ) -> tuple[Order, bool]:
        """The order for `external_ref`, created if absent: (order, created?).

        An insert (not an upsert-update, which would append the lines again: §A.6) on the
        unique external-ref field: a retried or racing insert gets DUPLICATE_DATA naming the
        existing record, which is then returned. So the write is safe to retry.
        """
        ref_field = self.options.external_ref_field
        if ref_field is None:
            raise InvalidInput("crm.external_ref_field is not set; order writes need it")
        existing = await self.find_order(external_ref=external_ref)  # cheap common case
        if existing is not None:
            return existing, False
        record: dict[str, Any] = {
            ref_field: external_ref,
            "Subject": subject,
            "Account_Name": {"id": account_id},
            "Status": status,
            "Currency": currency,
            "Ordered_Items": [
                {"Product_Name": {"id": pid}, "Quantity": float(qty), "List_Price": float(price)}
                for pid, qty, price in lines
            ],
        }
        if notes:
            record["Description"] = notes
        where = "POST /crm/v8/Sales_Orders"
        reply = await self.wire.call(
            "POST", "/Sales_Orders", json={"data": [record]}, idempotent=True, records=True
        )
        result = write_results(reply, where, tolerate=frozenset({"DUPLICATE_DATA"}))[0]
        duplicate = duplicate_of(result, ref_field)
        if result.get("status") != "success" and duplicate is None:
            write_results(reply, where)  # a duplicate on another field: raise it as usual
        if duplicate is not None:
            return await _reread(self, {"details": {"id": duplicate}}, where), False
        return await _reread(self, result, where), True

    async def set_order_status(self: _CrmReads, order_id: str, status: str) -> Order:
        if not zoho_id(order_id):
            raise InvalidInput(f"{order_id[:40]!r} is not a Zoho record id")
        where = f"PUT /crm/v8/Sales_Orders/{order_id}"
        body = {"data": [{"Status": status}]}
        reply = await self.wire.call("PUT", f"/Sales_Orders/{order_id}", json=body)
        return await _reread(self, write_results(reply, where)[0], where)


async def _reread(crm: _CrmReads, result: Record, where: str) -> Order:
    details = result.get("details") if isinstance(result.get("details"), dict) else {}
    order_id = str((details or {}).get("id", ""))
    order = (await crm.get_orders([order_id])).get(order_id)
    if order is None:
        raise BackendRejected(
            f"Zoho accepted {where} but the order cannot be read back", system="crm"
        )
    return order
