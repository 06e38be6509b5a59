"""No body a client sends makes the emulation answer anything but its 200 envelope."""

from __future__ import annotations

from typing import Any

import pytest

from backends.fxiaoke.store import FxStore
from tests.support.fxiaoke_emulation import FxCaller

QUERY = "/cgi/crm/v2/data/query"


def _info(**info: Any) -> dict[str, Any]:
    return {"dataObjectApiName": "AccountObj", "search_query_info": info}


@pytest.mark.parametrize(
    "data",
    [
        [],  # data is not an object
        "AccountObj",
        {"dataObjectApiName": "sqlite_master"},  # no such object
        {"dataObjectApiName": "AccountObj", "search_query_info": []},
        _info(limit=True),  # a bool is no integer
        _info(limit=10**30),
        _info(offset=-100),
        _info(limit=7, offset=10),  # not a multiple of the limit
        _info(filters="name=x"),
        _info(filters=[{"field_name": "name') OR 1=1 --", "field_values": ["x"]}]),
        _info(filters=[{"field_name": "name", "field_values": ["x"], "operator": "DROP"}]),
        _info(filters=[{"field_name": "name", "field_values": ["a", "b"], "operator": "EQ"}]),
        _info(filters=[{"field_name": "create_time", "field_values": ["soon"], "operator": "GT"}]),
        _info(filters=[{"field_name": "name", "field_values": [], "operator": "IN"}]),
        _info(orders=[{"fieldName": "doc; DROP TABLE AccountObj", "isAsc": True}]),
        _info(fieldProjection=["name", {"x": 1}]),
    ],
)
async def test_a_malformed_query_is_a_business_error_and_changes_nothing(
    fx: FxCaller, store: FxStore, data: Any
) -> None:
    before = store.count_where("AccountObj", "1", ())
    reply = await fx.call(QUERY, data)  # asserts HTTP 200
    assert reply["errorCode"] not in (0, None)
    assert store.count_where("AccountObj", "1", ()) == before


async def test_a_deeply_nested_body_is_a_business_error(fx: FxCaller) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = await fx.client.post(QUERY, content=body)
    assert response.status_code == 200
    assert response.json()["errorCode"] != 0


async def test_a_like_value_with_wildcards_matches_them_literally(fx: FxCaller) -> None:
    filters = [{"field_name": "name", "field_values": ["%"], "operator": "LIKE"}]
    reply = await fx.query("AccountObj", filters=filters)
    assert reply["data"]["dataList"] == []
