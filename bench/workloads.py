"""The benchmark workloads: what is asked, of whom, and the three ways of asking it.

W1 is an order page (one order with its customer, lines → product → stock, shipments and
fulfillment); W2 is an order list with the same joins, 10, 50 and 200 orders long. Each is
asked of the gateway (one GraphQL POST), of the floor client (`bench.floor`, the fewest
backend calls, in parallel) and of the floor client with batching off (one call per key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bench.floor import Floor

ORDER_FIELDS = """
    id number status placedAt
    total { amount currency }
    customer { id name }
    lines {
      sku quantity unitPrice { amount currency }
      product {
        sku name listPrice { amount currency } available
        stock { warehouse { id name } onHand reserved available }
      }
    }
    shipments { id carrier status trackingNumber lines { sku quantity } }
    fulfillment
"""
ORDER_PAGE = f"query OrderPage($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
ORDER_LIST = (
    f"query OrderList($first: Int!) {{ orders(first: $first) {{ nodes {{ {ORDER_FIELDS} }} }} }}"
)

Json = dict[str, Any]


class WorkloadError(RuntimeError):
    """A workload got an error or an unexpected answer; benchmarking it would be meaningless."""


@dataclass(frozen=True)
class Workload:
    """One workload: a label, the GraphQL request, and the floor's way to get the same JSON."""

    name: str
    query: str
    variables: Json
    floor: Callable[[Floor], Awaitable[Json]]


def order_page(order_id: str) -> Workload:
    """W1: the page of the order `order_id`."""

    async def floor(client: Floor) -> Json:
        return {"order": await client.order_page(order_id)}

    return Workload("W1 order page", ORDER_PAGE, {"id": order_id}, floor)


def order_list(first: int) -> Workload:
    """W2: the first `first` orders, newest first."""

    async def floor(client: Floor) -> Json:
        return {"orders": {"nodes": await client.order_list(first)}}

    return Workload(f"W2 orders({first})", ORDER_LIST, {"first": first}, floor)


class GatewayClient:
    """Posts one workload to the gateway and returns `data`, refusing answers with errors."""

    def __init__(self, http: httpx.AsyncClient, *, token: str | None = None) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def run(self, workload: Workload) -> Json:
        body = {"query": workload.query, "variables": workload.variables}
        reply = await self.http.post("/graphql", json=body, headers=self.headers)
        if reply.status_code != 200:
            raise WorkloadError(f"{workload.name}: gateway answered {reply.status_code}")
        answer = reply.json()
        if answer.get("errors"):
            first = answer["errors"][0].get("message", "?")
            raise WorkloadError(f"{workload.name}: gateway reported errors, first: {first}")
        data: Json = answer["data"]
        return data


def mismatch(expected: Any, actual: Any, path: str = "data") -> str | None:
    """The first path where two JSON values differ, or None when they are equal."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return f"{path}: keys {sorted(expected)} != {sorted(actual)}"
        for key in expected:
            found = mismatch(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{path}: {len(expected)} items != {len(actual)}"
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            found = mismatch(left, right, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if expected == actual else f"{path}: {expected!r} != {actual!r}"
