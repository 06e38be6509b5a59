"""Example operations a newcomer runs first: the demo prints them as curl commands and
GraphiQL's page opens with the order page (`ORDER_PAGE` with `ORDER_PAGE_VARIABLES`)."""

from __future__ import annotations

ORDER_LIST = (
    "query OrderList { orders(first: 10) { nodes { number status placedAt "
    "total { amount currency } customer { name } fulfillment } "
    "pageInfo { hasNextPage endCursor } } }"
)
ORDER_PAGE = (
    "query OrderPage($number: String!) { order(number: $number) { number status placedAt "
    "total { amount currency } customer { name email shippingAddress { city country } } "
    "lines { sku quantity unitPrice { amount currency } product { name available } } "
    "shipments { id carrier status trackingNumber } fulfillment } }"
)
# the emulations' first sales order (CRM numbers run SO-000001, SO-000002, …)
ORDER_PAGE_VARIABLES = {"number": "SO-000001"}
STOCK_BY_WAREHOUSE = (
    "query Stock { products(first: 5) { nodes { sku name "
    "stock { warehouse { name } onHand reserved available } } } }"
)
