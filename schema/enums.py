"""The canonical enums, exposed as GraphQL enums with descriptions.

They are the records' own enums (resolvers/records.py), registered with strawberry, so a
connector's value reaches the client without a second mapping.
"""

from __future__ import annotations

import strawberry

from resolvers.records import FulfillmentStatus, OrderStatus, ShipmentStatus

strawberry.enum(
    OrderStatus,
    description="Where a sales order stands in the CRM (mapped from its Status picklist).",
)
strawberry.enum(
    FulfillmentStatus,
    description="How far the warehouse has got with an order (derived from the ERP mirror).",
)
strawberry.enum(
    ShipmentStatus,
    description="Where a shipment stands (mapped from ERPNext shipment and tracking status).",
)

__all__ = ["FulfillmentStatus", "OrderStatus", "ShipmentStatus"]
