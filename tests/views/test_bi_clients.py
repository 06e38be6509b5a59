"""The exports as BI tools read them: pandas and DuckDB load exactly the rows and the ids,
Parquet with its types, and a failure mid-export is an error in the client, not a file."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pandas as pd
import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backends.serve import serving
from backends.zoho.app import ZohoEmulator
from gateway.views import ViewCatalog, load_views
from tests.support.views import ViewsClient, token
from tests.views.test_exports import EXPECTED, _expected_rows

ADMIN = token("admin")
KINDS_IN_PANDAS = {"id": "str", "string": "str", "enum": "str", "float": "float64"}


@pytest.fixture(scope="module")
def catalog() -> ViewCatalog:
    """The shipped views, order_lines paged finely (6 pages) so a failure can come mid-export."""
    shipped = load_views(None)
    views = {**shipped.views, "order_lines": replace(shipped.views["order_lines"], page_size=50)}
    return replace(shipped, views=views)


@pytest.fixture
async def base_url(views_app: Starlette) -> AsyncIterator[str]:
    async with serving(views_app, "127.0.0.1", 0) as port:
        yield f"http://127.0.0.1:{port}"


def _down_after_first_chunk(app: ASGIApp, emulator: ZohoEmulator) -> ASGIApp:
    """`app`, with the CRM emulation going down once the first body chunk has been sent."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def spy(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and message.get("body"):
                emulator.controls.update({"down": True})

        await app(scope, receive, spy)

    return wrapped


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows with missing values as None, as the GraphQL oracle has them."""
    rows: list[dict[str, Any]] = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return rows


@pytest.mark.sockets
@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_pandas_read_json_lines_gives_exactly_the_rows_and_the_ids(
    views: ViewsClient, catalog: ViewCatalog, base_url: str, name: str
) -> None:
    expected = await _expected_rows(views, catalog, name)
    frame = await asyncio.to_thread(
        pd.read_json,
        f"{base_url}/views/{name}.ndjson",
        lines=True,
        dtype=False,  # values as JSON has them (pandas would parse "12.50" into a float)
        storage_options={"Authorization": f"Bearer {ADMIN}"},
    )
    assert len(frame) == len(expected)
    assert list(frame.columns) == list(expected[0])
    assert _records(frame) == expected
    id_column = {"order_lines": "customer_id", "stock_levels": "sku", "shipments": "shipment"}
    assert list(frame[id_column[name]]) == [row[id_column[name]] for row in expected]


@pytest.mark.sockets
async def test_pandas_default_inference_keeps_19_digit_ids_exact(
    views: ViewsClient, catalog: ViewCatalog, base_url: str
) -> None:
    expected = await _expected_rows(views, catalog, "order_lines")
    frame = await asyncio.to_thread(
        pd.read_json,
        f"{base_url}/views/order_lines.ndjson",
        lines=True,
        storage_options={"Authorization": f"Bearer {ADMIN}"},
    )
    assert len(frame) == len(expected)
    assert frame["customer_id"].dtype == "int64"  # no empty row turning the column into floats
    assert [str(v) for v in frame["customer_id"]] == [row["customer_id"] for row in expected]
    assert all(len(row["customer_id"]) == 19 for row in expected)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_duckdb_read_json_gives_exactly_the_rows_and_the_ids(
    views: ViewsClient, catalog: ViewCatalog, tmp_path: Path, name: str
) -> None:
    expected = await _expected_rows(views, catalog, name)
    response = await views.get(f"/views/{name}.ndjson", bearer=ADMIN)
    path = tmp_path / f"{name}.ndjson"
    path.write_bytes(response.content)
    with duckdb.connect() as db:
        relation = db.read_json(str(path), format="newline_delimited")
        assert relation.columns == list(expected[0])
        rows = relation.fetchall()
    assert len(rows) == len(expected)
    first = next(iter(expected[0]))  # each view's key column
    assert [str(row[0]) for row in rows] == [str(row[first]) for row in expected]


def _typed(value: Any, kind: str) -> Any:
    """The oracle's JSON value as a Parquet reader should give it back."""
    if value is None:
        return None
    if kind == "decimal":
        return Decimal(value)
    if kind == "timestamp":
        return datetime.fromisoformat(value)
    return value


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_parquet_loads_in_pandas_and_duckdb_with_the_right_types(
    views: ViewsClient, catalog: ViewCatalog, tmp_path: Path, name: str
) -> None:
    expected = await _expected_rows(views, catalog, name)
    described = (await views.get(f"/views/{name}", bearer=ADMIN)).json()
    kinds = {c["name"]: c["type"] for c in described["columns"]}
    response = await views.get(f"/views/{name}.parquet", bearer=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    frame = pd.read_parquet(io.BytesIO(response.content))
    for column, kind in kinds.items():
        dtype = str(frame[column].dtype)
        if kind == "timestamp":
            assert dtype.startswith("datetime64"), (column, dtype)
            assert dtype.endswith("UTC]"), (column, dtype)
        elif kind == "decimal":
            assert all(v is None or isinstance(v, Decimal) for v in frame[column]), column
        else:
            assert dtype == KINDS_IN_PANDAS[kind], (column, dtype)
    want = [{c: _typed(v, kinds[c]) for c, v in row.items()} for row in expected]
    assert _records(frame) == want
    path = tmp_path / f"{name}.parquet"
    path.write_bytes(response.content)
    with duckdb.connect() as db:
        types = dict(db.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()[i][:2] for i in
                     range(len(kinds)))  # fmt: skip
        count = db.execute(f"SELECT count(*) FROM '{path}'").fetchone()
    sql = {"id": "VARCHAR", "decimal": "DECIMAL(38,9)", "timestamp": "TIMESTAMP WITH TIME ZONE"}
    assert {c: types[c] for c in kinds if kinds[c] in sql} == {
        c: sql[k] for c, k in kinds.items() if k in sql
    }
    assert count == (len(expected),)


@pytest.mark.sockets
@pytest.mark.parametrize("fmt", ["ndjson", "csv", "parquet"])
async def test_a_backend_failure_mid_export_is_an_incomplete_transfer_for_the_client(
    views_app: Starlette, crm_emulator: ZohoEmulator, fmt: str
) -> None:
    headers = {"Authorization": f"Bearer {ADMIN}"}
    failing = _down_after_first_chunk(views_app, crm_emulator)
    async with serving(failing, "127.0.0.1", 0) as port, httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{port}/views/order_lines.{fmt}"
        async with client.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200
            received: list[bytes] = []
            with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
                await _read_into(response, received)
    assert received  # rows came, then the transfer broke off


async def _read_into(response: httpx.Response, parts: list[bytes]) -> None:
    async for part in response.aiter_raw():
        parts.append(part)


async def test_a_view_describes_its_columns_with_their_types(views: ViewsClient) -> None:
    response = await views.get("/views/order_lines", bearer=ADMIN)
    assert response.status_code == 200
    described = response.json()
    columns = {c["name"]: c for c in described["columns"]}
    assert columns["customer_id"] == {
        "name": "customer_id",
        "type": "id",
        "graphqlType": "ID",
        "description": "The CRM account id.",
        "nullable": True,
    }
    assert columns["placed_at"]["type"] == "timestamp"
    assert columns["placed_at"]["nullable"] is False
    assert columns["unit_price"]["type"] == "decimal"
    assert columns["status"]["values"][:2] == ["CREATED", "PENDING_APPROVAL"]
    assert columns["first_shipment_carrier"]["nullable"] is True  # a list element, maybe absent
    assert described["formats"] == ["csv", "ndjson", "parquet"]
    header = await views.get("/views/order_lines.csv", bearer=ADMIN, limit="1")
    assert ",".join(columns) == header.text.splitlines()[0]  # the export's column order


async def test_a_described_view_shows_only_the_callers_columns(views: ViewsClient) -> None:
    partner = token("partner", partner="DHL")
    described = (await views.get("/views/shipments", bearer=partner)).json()
    listed = (await views.get("/views", bearer=partner)).json()["views"]
    shipments = next(v for v in listed if v["name"] == "shipments")
    assert [c["name"] for c in described["columns"]] == shipments["columns"]
    assert described["omittedColumns"] == shipments["omittedColumns"]
