"""Signed cursors: only what the gateway issued, for this connection and these arguments, pages.

Issue 12: cursors were base64 JSON whose offsets and page sizes went to the backends as sent.
Now an altered, foreign, re-filtered or garbage cursor is BAD_CURSOR (HTTP 200 with a GraphQL
error, never a 5xx) and costs no backend call; normal paging walks every page as before
(`test_pagination.py` walks each listing by `endCursor`).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
from typing import Any

import pytest

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from gateway.settings import SettingsError, parse_settings
from gateway.wiring import _warn_unshared_cursor_key
from resolvers.errors import BadCursor
from schema.connections import window
from schema.cursor_key import CursorKey, binding
from tests.gateway.test_settings import minimal
from tests.support.stack import GraphQLClient, gateway_settings

ORDERS = """query($a: String, $s: OrderStatus) {
  orders(first: 2, after: $a, status: $s) { nodes { id } pageInfo { endCursor } } }"""
SHIPMENTS = """query($a: String, $c: String) {
  shipments(first: 2, after: $a, carrier: $c) { nodes { id } pageInfo { endCursor } } }"""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _position(cursor: str) -> dict[str, Any]:
    payload = cursor.partition(".")[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return decoded


def _with_position(cursor: str, **changes: Any) -> str:
    """The cursor with its position edited and its tag kept: what a tampering client sends."""
    position = {**_position(cursor), **changes}
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(raw)}.{cursor.partition('.')[2]}"


async def _end_cursor(gql: GraphQLClient, query: str, field: str, **variables: Any) -> str:
    data = await gql.data(query, **variables)
    cursor = data[field]["pageInfo"]["endCursor"]
    assert isinstance(cursor, str)
    return cursor


def _refused(body: dict[str, Any], field: str) -> None:
    assert body["data"] == {field: None}, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_CURSOR", "argument": "after"}
    assert "not a cursor of this connection" in error["message"]


async def test_an_altered_offset_is_refused_before_any_backend_call(
    gql: GraphQLClient, crm_emulator: ZohoEmulator
) -> None:
    cursor = await _end_cursor(gql, ORDERS, "orders")
    for tampered in (
        _with_position(cursor, o=10**9),  # a page size of a billion, forwarded to Zoho
        _with_position(cursor, o=1),
        _with_position(cursor, a="tampered-page-token"),
    ):
        crm_emulator.stats.reset()
        _refused(await gql.query(ORDERS, a=tampered), "orders")
        assert crm_emulator.stats.total == 0


async def test_a_cursor_from_another_connection_is_refused(gql: GraphQLClient) -> None:
    shipments = await _end_cursor(gql, SHIPMENTS, "shipments")
    orders = await _end_cursor(gql, ORDERS, "orders")
    _refused(await gql.query(ORDERS, a=shipments), "orders")
    _refused(await gql.query(SHIPMENTS, a=orders), "shipments")


async def test_a_cursor_reused_with_other_filters_is_refused(
    gql: GraphQLClient, scm_emulator: ErpEmulator
) -> None:
    approved = await _end_cursor(gql, ORDERS, "orders", s="APPROVED")
    assert "errors" not in await gql.query(ORDERS, a=approved, s="APPROVED")
    _refused(await gql.query(ORDERS, a=approved), "orders")  # filter dropped
    _refused(await gql.query(ORDERS, a=approved, s="CANCELLED"), "orders")
    dhl = await _end_cursor(gql, SHIPMENTS, "shipments", c="DHL")
    scm_emulator.stats.reset()
    _refused(await gql.query(SHIPMENTS, a=dhl, c="UPS"), "shipments")
    assert scm_emulator.stats.total == 0


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "",
        ".",
        "a.b.c",
        "eyJrIjoib3JkZXJzOjo6IiwiYSI6bnVsbCwibyI6MX0",  # the old unsigned format
        "x" * 100_000 + ".AAAA",
        _b64(b"[" * 100_000 + b"]" * 100_000) + ".AAAAAAAAAAAAAAAAAAAAAA",
    ],
    ids=["garbage", "empty", "dot", "dots", "unsigned", "huge", "nested"],
)
async def test_garbage_is_bad_cursor_never_a_5xx(gql: GraphQLClient, cursor: str) -> None:
    _refused(await gql.query(ORDERS, a=cursor), "orders")


async def test_edge_cursors_are_signed_too_and_resume_after_their_node(
    gql: GraphQLClient,
) -> None:
    data = await gql.data("{ orders(first: 4) { edges { cursor node { id } } } }")
    ids = [edge["node"]["id"] for edge in data["orders"]["edges"]]
    second = data["orders"]["edges"][1]["cursor"]
    after = await gql.data(ORDERS, a=second)
    assert [n["id"] for n in after["orders"]["nodes"]] == ids[2:4]
    _refused(await gql.query(ORDERS, a=_with_position(second, o=3)), "orders")


def test_a_cursor_signed_with_another_key_is_refused_and_a_shared_key_is_accepted() -> None:
    shared = "s" * 32
    issued = window(CursorKey(shared.encode()), binding("Query.orders"), 5, None).cursor("p", 3)
    replica = window(CursorKey(shared.encode()), binding("Query.orders"), 5, issued)
    assert (replica.source, replica.offset) == ("p", 3)
    with pytest.raises(BadCursor):
        window(CursorKey.generate(), binding("Query.orders"), 5, issued)


@pytest.mark.parametrize(
    "position",
    [{"a": None, "o": True}, {"a": None, "o": -1}, {"a": 7, "o": 0}, {"a": None, "o": "1"}, {}],
    ids=["bool-offset", "negative-offset", "numeric-source", "string-offset", "empty"],
)
def test_a_signed_cursor_without_a_position_is_bad_cursor(position: dict[str, Any]) -> None:
    key = CursorKey.generate()
    with pytest.raises(BadCursor):
        window(key, binding("Query.orders"), 5, key.seal(binding("Query.orders"), position))


def test_the_binding_ignores_absent_arguments_and_names_the_connection() -> None:
    assert binding("Query.orders", status=None) == binding("Query.orders")
    assert binding("Query.orders") != binding("Query.shipments")
    assert binding("Customer.orders", id="1") != binding("Customer.orders", id="2")


def test_the_cursor_key_setting_is_read_from_the_environment_and_must_be_long_enough() -> None:
    key = "k" * 40
    settings = parse_settings(minimal(), {"CROSSDOCK_CURSOR_KEY": key})
    assert settings.graphql.cursor_key == key
    assert key not in repr(settings)
    assert parse_settings(minimal()).graphql.cursor_key is None
    with pytest.raises(SettingsError, match=r"graphql\.cursor_key .*CROSSDOCK_CURSOR_KEY"):
        parse_settings(minimal(graphql={"cursor_key": "short"}))


@pytest.mark.parametrize(
    ("environment", "key", "warned"),
    [("production", None, True), ("production", "k" * 32, False), ("development", None, False)],
)
def test_production_without_a_cursor_key_warns_that_cursors_die_with_the_process(
    caplog: pytest.LogCaptureFixture, environment: str, key: str | None, warned: bool
) -> None:
    base = gateway_settings()
    settings = dataclasses.replace(
        base,
        server=dataclasses.replace(base.server, environment=environment),
        graphql=dataclasses.replace(base.graphql, cursor_key=key),
    )
    with caplog.at_level(logging.WARNING, logger="crossdock.gateway"):
        _warn_unshared_cursor_key(settings)
    assert any("graphql.cursor_key is not set" in r.getMessage() for r in caplog.records) is warned
