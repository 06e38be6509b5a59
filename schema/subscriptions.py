"""The Subscription root: processed changes out, each resolved through the normal schema.

Each field listens on the gateway's change bus (`resolvers.sync.ChangeBus`, on the context as
`change_bus`), keeps the changes of its entity, and reads the changed record afresh through
the same loaders a query uses, so the caller's row filters are pushed into that read: a row
the caller may not see comes back as nothing and the event is skipped without a word (a DHL
partner never hears of a UPS shipment). The object it yields then completes the caller's
selection like a query's would, through the access extension (denied fields, masks, the
row-rule re-check). A deleted record reads as nothing and is skipped too.

The subscription ends, with a TOKEN_EXPIRED error, when the caller's token expires
(`GatewayContext.expires_at`), and with SUBSCRIBER_OVERFLOW when it fell so far behind the bus
that it was dropped (resubscribe, and re-read what you need).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any, TypeVar, cast

import strawberry

from resolvers.errors import CrossdockError
from resolvers.sync import Change, Entity
from resolvers.sync.bus import Overflow
from schema.context import GatewayContext, Info
from schema.enums import ShipmentStatus
from schema.orders import Order, Shipment, load_order, load_shipment
from schema.products import Product, load_product

# `Change.fields` key a stock change carries when the sync processor compared the SKU's
# stock with its reorder level (sync rule 6); absent means "not below".
BELOW_REORDER_LEVEL = "below_reorder_level"

Clock = Callable[[], float]
F = TypeVar("F", bound=Callable[..., Any])


def subscription(description: str) -> Callable[[F], F]:
    """`@strawberry.subscription(description=...)`, typed for the checker (schema.fields)."""
    return cast(Callable[[F], F], strawberry.subscription(description=description))


class SubscriptionEnded(CrossdockError):
    """Why a subscription stopped: TOKEN_EXPIRED, SUBSCRIBER_OVERFLOW or SUBSCRIPTIONS_OFF."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _expired() -> SubscriptionEnded:
    return SubscriptionEnded(
        "The token expired: the subscription ended. Subscribe again with a fresh token.",
        "TOKEN_EXPIRED",
    )


async def changes_of(
    context: GatewayContext, entities: frozenset[Entity], clock: Clock = time.time
) -> AsyncIterator[Change]:
    """The bus's changes of these entities until the caller's token expires."""
    bus = context.change_bus
    if bus is None:
        raise SubscriptionEnded("Subscriptions are off on this gateway.", "SUBSCRIPTIONS_OFF")
    async with bus.subscribe() as changes:
        stream = aiter(changes)
        while True:
            left = None if context.expires_at is None else context.expires_at - clock()
            if left is not None and left <= 0:
                raise _expired()
            try:
                change = await asyncio.wait_for(anext(stream), left)
            except TimeoutError:
                raise _expired() from None
            except StopAsyncIteration:  # the bus closed: the gateway is shutting down
                return
            except Overflow:
                raise SubscriptionEnded(
                    "This subscription fell too far behind the changes and was dropped; "
                    "subscribe again and re-read what you need.",
                    "SUBSCRIBER_OVERFLOW",
                ) from None
            if change.entity in entities:
                yield change


def _sku_of(change: Change) -> str:
    """A stock change's SKU: its record id is `<item_code>@<warehouse>`."""
    return change.record_id.partition("@")[0]


@strawberry.type(description="Changes as they happen in the CRM and the ERP, once processed.")
class Subscription:
    @subscription(
        "An order as it is after each change (CRM), optionally only one order "
        "or one customer's orders."
    )
    async def order_changed(
        self, info: Info, id: strawberry.ID | None = None, customer_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Order, None]:
        context = info.context
        async for change in changes_of(context, frozenset({"order"})):
            if id is not None and change.record_id != str(id):
                continue
            context.refresh()
            order = await load_order(info, change.record_id)
            if order is None:
                continue
            if customer_id is not None and order.record.customer_id != str(customer_id):
                continue
            yield order

    @subscription(
        "A shipment as it is after each change (ERP), optionally filtered by id, "
        "carrier and status (the status after the change)."
    )
    async def shipment_changed(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        carrier: str | None = None,
        status: ShipmentStatus | None = None,
    ) -> AsyncGenerator[Shipment, None]:
        context = info.context
        async for change in changes_of(context, frozenset({"shipment"})):
            if id is not None and change.record_id != str(id):
                continue
            context.refresh()
            shipment = await load_shipment(info, change.record_id)  # row filters pushed here
            if shipment is None:
                continue
            if carrier is not None and shipment.carrier != carrier:
                continue
            if status is not None and shipment.status != status:
                continue
            yield shipment

    @subscription(
        "A product after a change of its stock in a warehouse (ERP), optionally "
        "one SKU, or only changes that left it below (true) or not below (false) its reorder "
        "level."
    )
    async def stock_changed(
        self, info: Info, sku: str | None = None, below_reorder_level: bool | None = None
    ) -> AsyncGenerator[Product, None]:
        context = info.context
        async for change in changes_of(context, frozenset({"stock"})):
            changed_sku = _sku_of(change)
            if sku is not None and changed_sku != sku:
                continue
            below = bool(change.fields.get(BELOW_REORDER_LEVEL, False))
            if below_reorder_level is not None and below != below_reorder_level:
                continue
            context.refresh()
            product = await load_product(info, changed_sku)
            if product is not None:
                yield product
