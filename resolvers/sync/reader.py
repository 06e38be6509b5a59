"""Read the record a change is about, as its system holds it now: a change is only a hint.

One read through the ports per entity, returning the canonical record (None when it does not
exist any more) and its version (its modification time). Stock has no version of its own:
its record is the SKU's stock levels in every warehouse.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from resolvers.ports import CrmPort, ErpPort

from .change import Change, Entity
from .rules.base import Snapshot

Read = Callable[[CrmPort, ErpPort, str], Awaitable[Snapshot]]


async def _account(crm: CrmPort, scm: ErpPort, id: str) -> Snapshot:
    found = (await crm.get_accounts([id], with_email=False)).get(id)
    return Snapshot(found, found.updated_at if found else None)


async def _product(crm: CrmPort, scm: ErpPort, id: str) -> Snapshot:
    found = (await crm.get_products([id])).get(id)
    return Snapshot(found, found.updated_at if found else None)


async def _order(crm: CrmPort, scm: ErpPort, id: str) -> Snapshot:
    found = (await crm.get_orders([id])).get(id)
    return Snapshot(found, found.updated_at if found else None)


async def _shipment(crm: CrmPort, scm: ErpPort, id: str) -> Snapshot:
    found = (await scm.get_shipments([id], with_destination=False)).get(id)
    return Snapshot(found, found.updated_at if found else None)


async def _item(crm: CrmPort, scm: ErpPort, sku: str) -> Snapshot:
    found = (await scm.get_items([sku])).get(sku)
    return Snapshot(found, found.updated_at if found else None)


async def _stock(crm: CrmPort, scm: ErpPort, id: str) -> Snapshot:
    sku = id.partition("@")[0]
    return Snapshot((await scm.list_bins([sku])).get(sku, []), None)


READERS: dict[Entity, Read] = {
    "account": _account,
    "product": _product,
    "order": _order,
    "shipment": _shipment,
    "item": _item,
    "stock": _stock,
}


async def read_current(crm: CrmPort, scm: ErpPort, change: Change) -> Snapshot | None:
    """The record now, or None when no reader knows the entity (nothing to read)."""
    read = READERS.get(change.entity)
    return None if read is None else await read(crm, scm, change.record_id)
