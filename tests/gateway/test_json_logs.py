"""`[logging] format = "json"`: every line a JSON object; the access line carries request id,
trace id, subject, operation, status and duration; no token, variable or field value is
ever written, even at DEBUG with a backend failing (its retries and errors logged)."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from gateway.observe.logs import log_config
from gateway.observe.tracing import Tracing
from gateway.settings.observe import parse_logging
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.support.stack import GATEWAY_URL, gateway_settings, token_for

SEARCH = "query Find($q: String) { customers(first: 2, search: $q) { nodes { name email } } }"
STOCK = "query Stock { warehouses { id name } }"
FIRST = "{ customers(first: 1) { nodes { name } } }"


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What the JSON configuration at DEBUG (as `crossdock serve` applies it) writes; the
    logging configuration is restored after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "uvicorn")}
    logging.config.dictConfig(log_config(parse_logging({"format": "json", "level": "DEBUG"}, {})))
    buffer = io.StringIO()
    [ours] = [h for h in root.handlers if h not in handlers]
    assert isinstance(ours, logging.StreamHandler)
    ours.setStream(buffer)
    yield buffer
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


def lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


async def test_json_lines_follow_a_request_and_never_show_secrets(
    tmp_path: Path,
    crm: ZohoCRM,
    scm: ERPNext,
    crm_emulator: ZohoEmulator,
    scm_emulator: ErpEmulator,
    logged: io.StringIO,
) -> None:
    settings = replace(gateway_settings(tmp_path), logging=parse_logging({"format": "json"}, {}))
    tracing = Tracing.with_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    app = assemble(settings, crm=crm, scm=scm, tracing=tracing)
    token = token_for("admin")
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    auth = {"Authorization": f"Bearer {token}"}
    headers = {**auth, "X-Request-ID": "req-json-1"}
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL, headers=auth) as http:
        first = await http.post(
            "/graphql", json={"query": "{ customers(first: 1) { nodes { name } } }"}
        )
        name = first.json()["data"]["customers"]["nodes"][0]["name"]  # a value really searched
        logged.seek(0)
        logged.truncate()
        scm_emulator.controls.update({"down": True})  # retries and a backend error get logged
        found = await http.post("/graphql", json={"query": SEARCH, "variables": {"q": name}})
        failed = await http.post("/graphql", json={"query": STOCK}, headers=headers)
        query = {"query": SEARCH, "variables": json.dumps({"q": name})}
        got = await http.get("/graphql", params=query, headers={"x-crossdock-csrf": "1"})
    assert found.json()["data"]["customers"]["nodes"], found.text  # the value was searched
    assert failed.json()["errors"]
    assert got.status_code == 200, got.text
    text = logged.getvalue()
    records = lines(text)
    assert records  # every line parsed as JSON
    access = [r for r in records if r["logger"] == "crossdock.access"]
    assert len(access) == 3
    stock = next(r for r in access if r["request_id"] == "req-json-1")
    assert stock["operation"] == "Stock"
    assert stock["subject"]
    assert stock["status"] == 200
    assert stock["method"] == "POST"
    assert stock["path"] == "/graphql"
    assert isinstance(stock["duration_ms"], float)
    assert len(stock["trace_id"]) == 32
    assert stock["trace_id"] in scm_emulator.traces.received  # followed into the backend
    inner = [r for r in records if r.get("request_id") == "req-json-1" and r is not stock]
    assert inner  # the retries and the backend error, under the same request and trace
    assert all(r["trace_id"] == stock["trace_id"] for r in inner)
    assert token not in text
    assert token.split(".")[-1] not in text
    for form in (name, quote(name), quote(name, safe=""), quote_plus(name)):
        assert form not in text  # nor as a URL would carry it
    emails = [n["email"] for n in found.json()["data"]["customers"]["nodes"] if n["email"]]
    assert all(email not in text for email in emails)


def test_text_stays_the_default() -> None:
    assert parse_logging({}, {}).format == "text"
    assert log_config(parse_logging({}, {}))["loggers"]["uvicorn.access"]["handlers"]
    with pytest.raises(ValueError, match=r"logging\.format"):
        parse_logging({"format": "xml"}, {})
