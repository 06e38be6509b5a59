"""Differential runs: one document through two schemas over the same backends, compared.

    pair = Pair(standard=build_schema(batched=False), batched=build_schema())
    found = await pair.compare(backends, doc, context)   # [] when both answered the same

"The same", with plain graphql-core as the reference:
- `data` equal including key order (compared as `json.dumps` without sort_keys);
- errors equal as sorted lists of (message, path, extensions.code, locations);
- the batched run sends no more backend requests, per route, than the standard one;
- neither execution lets an exception escape.
Requests are counted at the emulations' counters; each run gets a fresh context (fresh
loaders), so neither profits from the other's cache.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from graphql import GraphQLError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from backends.controls import RequestStats
from gateway.errors import ErrorFormatting
from resolvers.breaker import Protection
from resolvers.erpnext import ERPNext, ERPNextOptions
from resolvers.fxiaoke import FxiaokeCRM, FxiaokeOptions
from resolvers.ports import CrmPort
from resolvers.zoho import ZohoCRM, ZohoOptions
from schema.build import CrossdockSchema, Extension, build_schema
from schema.context import GatewayContext, make_context
from tests.schema.querygen import ArgumentValues, Document
from tests.support.fxiaoke_emulation import FXIAOKE_URL
from tests.support.stack import ERP_URL, ZOHO_URL, no_sleep

ErrorKey = tuple[str, str, str, str]
Execute = Callable[[Document], Awaitable[tuple[Any, list[ErrorKey]]]]


@dataclass(frozen=True)
class Answer:
    """One execution, reduced to what must be equal."""

    data: str
    errors: list[ErrorKey]
    calls: Counter[str]
    crash: str | None = None  # the exception that escaped the execution, if one did


def error_key(
    message: str, path: Iterable[Any] | None, code: Any, locations: Iterable[Any] | None
) -> ErrorKey:
    where = [
        (at["line"], at["column"]) if isinstance(at, Mapping) else tuple(at)
        for at in locations or ()
    ]
    return (message, json.dumps(list(path or ())), str(code), json.dumps(where))


def graphql_error_key(error: GraphQLError) -> ErrorKey:
    code = (error.extensions or {}).get("code")
    return error_key(error.message, error.path, code, error.locations)


def diverges(
    doc: Document, standard: Answer, batched: Answer, *, label: str = "", calls: bool = True
) -> list[str]:
    """What differs between the two answers, written so that a failure reproduces by seed."""
    found = [
        f"the {name} execution crashed: {run.crash}"
        for name, run in (("standard", standard), ("batched", batched))
        if run.crash is not None
    ]
    if batched.data != standard.data:
        found.append(f"data differs\n  standard: {standard.data}\n  batched:  {batched.data}")
    if batched.data == standard.data and (
        located(batched.errors, batched.data) != located(standard.errors, standard.data)
    ):
        extra = sorted(set(batched.errors) - set(standard.errors))
        missing = sorted(set(standard.errors) - set(batched.errors))
        found.append(f"errors differ\n  only batched: {extra}\n  only standard: {missing}")
    more = {
        route: (standard.calls[route], n)
        for route, n in batched.calls.items()
        if n > standard.calls[route]
    }
    if calls and more:
        found.append(f"batched sends more backend calls (standard, batched): {more}")
    return [f"{label}{doc}\n" + "\n".join(found)] if found else []


def located(errors: list[ErrorKey], data: str) -> tuple[list[ErrorKey], set[str]]:
    """The errors as the contract compares them.

    An error at a field that is null in `data` must be the same on both sides. An error below
    a position that error propagation nulled (the null is a strict prefix of its path) only
    says "this subtree failed": which errors of a nulled subtree are reported depends on when
    each was raised relative to the nulling (graphql-core drops those raised after it, keeps
    those raised before; the batched executor stops resolving a nulled subtree, like an
    executor that cancels). Both executors must null the same positions (data is compared)
    and report at least one error under each; the errors themselves are not compared.
    """
    tree = json.loads(data) if data else None
    exact: list[ErrorKey] = []
    nulled: set[str] = set()
    for error in errors:
        path = json.loads(error[1])
        top = null_prefix(tree, path)
        if top is None or top == len(path):
            exact.append(error)
        else:
            nulled.add(json.dumps(path[:top]))
    return sorted(exact), nulled


def null_prefix(tree: Any, path: list[Any]) -> int | None:
    """The length of the shortest prefix of `path` at which `tree` holds null, if any."""
    node = tree
    for depth in range(len(path) + 1):
        if node is None:
            return depth
        if depth == len(path):
            return None
        step = path[depth]
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return None
    return None


def report(divergences: Sequence[str]) -> str:
    return f"{len(divergences)} divergence(s):\n\n" + "\n\n".join(divergences)


class FaultyRoutes:
    """An emulation behind a switch that answers 503 on chosen path prefixes (counting them
    as requests), e.g. ERPNext's Warehouse list alone, which no emulation knob can do."""

    def __init__(self, app: ASGIApp, stats: RequestStats) -> None:
        self.app = app
        self.stats = stats
        self.failing: tuple[str, ...] = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and self.failing and path.startswith(self.failing):
            self.stats.record(f"{scope['method']} {path} (failed)")
            await Response("Service Unavailable", status_code=503)(scope, receive, send)
            return
        await self.app(scope, receive, send)


@dataclass
class Backends:
    """Connectors over the two emulations with no circuit breaker or retry budget: both runs
    of a fault test must meet the same faults, not a breaker the first run opened."""

    crm: CrmPort
    scm: ERPNext
    crm_switch: FaultyRoutes
    scm_switch: FaultyRoutes
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def reset_counts(self) -> None:
        self.crm_switch.stats.reset()
        self.scm_switch.stats.reset()

    def counts(self) -> Counter[str]:
        calls: Counter[str] = Counter()
        for system, switch in (("crm", self.crm_switch), ("scm", self.scm_switch)):
            for route, n in switch.stats.snapshot()["routes"].items():
                calls[f"{system} {route}"] += n
        return calls

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


def unguarded_backends(
    crm: tuple[ASGIApp, RequestStats, ZohoOptions | FxiaokeOptions],
    scm: tuple[ASGIApp, RequestStats, ERPNextOptions],
) -> Backends:
    """Connectors over (app, its request counter, options) of each emulation."""
    off = Protection(enabled=False)
    crm_switch, scm_switch = FaultyRoutes(crm[0], crm[1]), FaultyRoutes(scm[0], scm[1])
    fxiaoke = isinstance(crm[2], FxiaokeOptions)
    crm_url = FXIAOKE_URL if fxiaoke else ZOHO_URL
    crm_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=crm_switch), base_url=crm_url)
    scm_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=scm_switch), base_url=ERP_URL)
    crm_options = replace(crm[2], protection=off)
    connector: CrmPort = (
        FxiaokeCRM(crm_client, crm_options, sleep=no_sleep)
        if isinstance(crm_options, FxiaokeOptions)
        else ZohoCRM(crm_client, crm_options, sleep=no_sleep)
    )
    return Backends(
        crm=connector,
        scm=ERPNext(scm_client, replace(scm[2], protection=off), sleep=no_sleep),
        crm_switch=crm_switch,
        scm_switch=scm_switch,
        clients=[crm_client, scm_client],
    )


async def answer(backends: Backends, execute: Execute, doc: Document) -> Answer:
    """Run `execute(doc)` and count the backend requests it caused, detached ones included."""
    backends.reset_counts()
    try:
        data, errors = await execute(doc)
    except (Exception, asyncio.CancelledError) as escaped:  # a crash is a finding, not a stop
        await detached_work()
        crash = f"{type(escaped).__name__}: {escaped}"
        return Answer("", [], backends.counts(), crash=crash)
    await detached_work()
    return Answer(json.dumps(data), sorted(errors), backends.counts())


async def detached_work() -> None:
    """Wait for work an execution left running (graphql-core cancels or abandons the other
    awaitables of a failed field; prefetches outlive fields that turned out not to need
    them): their requests belong to this run's count, never to the next run's."""
    me = asyncio.current_task()
    for _ in range(20):
        others = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        if not others:
            return
        await asyncio.wait(others, timeout=5)


def executor(schema: CrossdockSchema, context: Callable[[], Any]) -> Execute:
    """`schema.execute` with a fresh context per run, reduced to (data, error keys)."""

    async def execute(doc: Document) -> tuple[Any, list[ErrorKey]]:
        result = await schema.execute(
            doc.text, variable_values=doc.variables, context_value=context()
        )
        return result.data, [graphql_error_key(e) for e in result.errors or ()]

    return execute


@dataclass(frozen=True)
class Pair:
    """The reference schema (plain graphql-core) and the batched one, same extensions."""

    standard: CrossdockSchema
    batched: CrossdockSchema

    async def answers(
        self, backends: Backends, doc: Document, context: Callable[[], Any]
    ) -> tuple[Answer, Answer]:
        standard = await answer(backends, executor(self.standard, context), doc)
        batched = await answer(backends, executor(self.batched, context), doc)
        return standard, batched

    async def compare(
        self, backends: Backends, doc: Document, context: Callable[[], Any], label: str = ""
    ) -> list[str]:
        standard, batched = await self.answers(backends, doc, context)
        return diverges(doc, standard, batched, label=label)


def plain(backends: Backends) -> Callable[[], GatewayContext]:
    return lambda: make_context(crm=backends.crm, scm=backends.scm)


HARVEST = """{
  customers(first: 3) { nodes { id name } pageInfo { endCursor } }
  orders(first: 3) { nodes { id number } pageInfo { endCursor } }
  products(first: 3) { nodes { sku } }
  shipments(first: 3) { nodes { id } }
}"""


async def argument_values(backends: Backends) -> ArgumentValues:
    """Real ids and cursors from the seeded data, and some that match nothing. Fetching them
    also fetches the Zoho token, so the compared runs count data calls only."""
    result = await build_schema(batched=False).execute(HARVEST, context_value=plain(backends)())
    assert result.errors is None, result.errors
    data = result.data
    assert data is not None

    def column(root: str, name: str) -> list[Any]:
        return [node[name] for node in data[root]["nodes"]]

    cursors = [data[root]["pageInfo"]["endCursor"] for root in ("customers", "orders")]
    return ArgumentValues(
        pools={
            "first": (0, 1, 2, 2, 3, 3, None, -1, 201),  # -1 and 201: BAD_USER_INPUT
            # absent, a cursor valid on one listing (BAD_USER_INPUT on the others), garbage
            "after": (None, None, None, *cursors, "garbage"),
            "Query.customer.id": (*column("customers", "id"), "0"),
            "Query.order.id": (*column("orders", "id"), "0"),
            "Query.order.number": (*column("orders", "number"), "SO-999999"),
            # SKU-00999: a CRM product without an ERPNext item (seed mismatch)
            "Query.product.sku": (*column("products", "sku"), "SKU-00999", "NO-SUCH-SKU"),
            # SHIPMENT-00001: ships a cancelled order (seed mismatch)
            "Query.shipment.id": (*column("shipments", "id"), "SHIPMENT-00001", "NO-SUCH"),
            "customerId": (*column("customers", "id"), "0"),
            "search": (str(column("customers", "name")[0]).split()[0], "zzz"),
            "carrier": ("DHL", "UPS", "Nobody", None),
            "updatedSince": ("2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", None),
        }
    )


def pair(*extensions: Extension) -> Pair:
    everything = [ErrorFormatting, *extensions]
    return Pair(
        standard=build_schema(extensions=everything, batched=False),
        batched=build_schema(extensions=everything),
    )
