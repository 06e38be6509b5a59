"""Partial failure: when ERPNext fails, CRM fields stand and only SCM fields are nulled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp
from strawberry.extensions import SchemaExtension

from backends.erpnext.app import ErpEmulator
from gateway.app import create_app
from gateway.settings import Settings
from resolvers.erpnext import ERPNext, ERPNextOptions
from resolvers.http import RetryPolicy, Timeouts
from resolvers.zoho import ZohoCRM
from tests.support.stack import GATEWAY_URL, GraphQLClient, no_sleep

ORDER_PAGE = """{ orders(first: 5) { nodes { number total { amount }
  customer { name }
  lines { sku product { name listPrice { amount } available } }
  shipments { id }
  fulfillment } } }"""


def scm_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in body["errors"] if e["extensions"].get("system") == "scm"]


def assert_crm_fields_stand_and_scm_fields_are_null(body: dict[str, Any], code: str) -> None:
    orders = body["data"]["orders"]["nodes"]
    assert len(orders) == 5
    for order in orders:
        assert order["number"]
        assert order["customer"]["name"]
        assert order["lines"][0]["product"]["name"]  # CRM catalog half
        assert order["shipments"] is None
        assert order["fulfillment"] is None
        assert order["lines"][0]["product"]["available"] is None  # SCM
    errors = scm_errors(body)
    assert errors
    assert len(errors) == len(body["errors"])
    assert {e["extensions"]["code"] for e in errors} == {code}
    paths = {tuple(e["path"]) for e in errors}
    assert ("orders", "nodes", 0, "shipments") in paths
    assert ("orders", "nodes", 0, "fulfillment") in paths
    assert ("orders", "nodes", 0, "lines", 0, "product", "available") in paths
    assert all("Traceback" not in e["message"] for e in errors)


async def test_erpnext_down_nulls_only_the_scm_fields(
    gql: GraphQLClient, scm_emulator: ErpEmulator
) -> None:
    scm_emulator.controls.update({"down": True})
    body = await gql.query(ORDER_PAGE)
    assert_crm_fields_stand_and_scm_fields_are_null(body, "BACKEND_UNAVAILABLE")


async def test_erpnext_throttling_past_the_retries_is_backend_unavailable(
    gql: GraphQLClient, scm_emulator: ErpEmulator
) -> None:
    scm_emulator.controls.update({"throttle_rate": 1.0, "retry_after_s": 0})
    body = await gql.query(ORDER_PAGE)
    assert_crm_fields_stand_and_scm_fields_are_null(body, "BACKEND_UNAVAILABLE")


@contextlib.asynccontextmanager
async def on_loopback(app: ASGIApp) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port (timeouts need a real socket)."""

    class Quiet(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            yield

    server = Quiet(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="error"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


@pytest.mark.sockets
async def test_erpnext_slower_than_the_timeout_is_backend_timeout(
    settings: Settings, crm: ZohoCRM, scm_emulator: ErpEmulator
) -> None:
    scm_emulator.controls.update({"latency_ms": 1500})
    async with on_loopback(scm_emulator.app) as url, httpx.AsyncClient() as client:
        options = ERPNextOptions(
            base_url=url,
            api_key="crossdock-demo",
            api_secret="crossdock-demo-secret",
            timeouts=Timeouts(connect=1.0, read=0.2),
            retry=RetryPolicy(attempts=1),
        )
        scm = ERPNext(client, options, sleep=no_sleep)
        app = create_app(settings, crm=crm, scm=scm)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
            body = await GraphQLClient(http).query(ORDER_PAGE)
        scm_emulator.controls.reset()
    assert_crm_fields_stand_and_scm_fields_are_null(body, "BACKEND_TIMEOUT")


class Explode(SchemaExtension):
    """Raises an unexpected error, carrying a detail no client may see, in one resolver."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if info.field_name == "warehouses":
            raise RuntimeError("db password=hunter2 at /srv/secret.py line 3")
        return _next(root, info, *args, **kwargs)


@contextlib.contextmanager
def captured(logger: str) -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.ERROR)
    logging.getLogger(logger).addHandler(handler)
    try:
        yield records
    finally:
        logging.getLogger(logger).removeHandler(handler)


async def test_an_unexpected_error_is_masked_for_the_client_and_logged_with_the_request_id(
    settings: Settings, crm: ZohoCRM, scm: ERPNext
) -> None:
    app = create_app(settings, crm=crm, scm=scm, extensions=[Explode])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        with captured("crossdock.errors") as logged:
            response = await http.post(
                "/graphql",
                json={"query": "{ warehouses { id } viewer { roles } }"},
                headers={"X-Request-ID": "req-42"},
            )
    body = response.json()
    assert body["data"] == {"warehouses": None, "viewer": {"roles": []}}
    assert body["errors"] == [
        {
            "message": "Unexpected error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["warehouses"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"},
        }
    ]
    assert "hunter2" not in response.text
    assert len(logged) == 1
    assert "req-42" in logged[0].getMessage()
    assert logged[0].exc_info is not None  # the stack trace goes to the log, not the client
