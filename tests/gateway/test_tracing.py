"""OpenTelemetry traces of the production app, exported to memory: an operation reaching both
emulations makes operation → parse, validate, access, execute → one CLIENT span per backend
try, and each emulation received the same trace id in `traceparent`. Off: no span, no header.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from gateway.observe.tracing import Tracing, document_hash, open_tracing
from gateway.settings.observe import TracingSettings
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.sync.change import Change
from resolvers.zoho import ZohoCRM
from tests.support.stack import GATEWAY_URL, gateway_settings, token_for

# orders and their customers come from the CRM, the products' stock from the ERP
QUERY = (
    "query Orders($n: Int!) { orders(first: $n) { nodes { number customer { name } "
    "lines { product { sku stock { onHand } } } } } }"
)
STEP = "graphql.execute"


def client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url=GATEWAY_URL,
        headers={"Authorization": f"Bearer {token_for('admin')}"},
    )


def traced(tmp_path: Path, crm: ZohoCRM, scm: ERPNext) -> tuple[object, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing = Tracing.with_processor(SimpleSpanProcessor(exporter))
    return assemble(gateway_settings(tmp_path), crm=crm, scm=scm, tracing=tracing), exporter


def children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]


async def test_one_operation_makes_a_tree_that_both_backends_join(
    tmp_path: Path,
    crm: ZohoCRM,
    scm: ERPNext,
    crm_emulator: ZohoEmulator,
    scm_emulator: ErpEmulator,
) -> None:
    app, exporter = traced(tmp_path, crm, scm)
    async with client(app) as http:
        answer = await http.post("/graphql", json={"query": QUERY, "variables": {"n": 3}})
    assert answer.status_code == 200, answer.text
    assert not answer.json().get("errors")
    spans = list(exporter.get_finished_spans())
    [operation] = [s for s in spans if s.parent is None]
    assert operation.name == "query Orders"
    assert operation.kind == SpanKind.SERVER
    attributes = dict(operation.attributes or {})
    assert attributes["graphql.operation.name"] == "Orders"
    assert attributes["graphql.operation.type"] == "query"
    assert attributes["graphql.document.hash"] == document_hash(QUERY)
    steps = {s.name: s for s in children(spans, operation)}
    assert set(steps) == {"graphql.parse", "graphql.validate", "crossdock.access", STEP}
    calls = children(spans, steps[STEP])
    assert calls
    assert all(s.kind == SpanKind.CLIENT for s in calls)
    assert {dict(s.attributes or {})["crossdock.backend.system"] for s in calls} == {"crm", "scm"}
    for call in calls:
        attrs = dict(call.attributes or {})
        assert call.name == f"{attrs['http.request.method']} {attrs['url.template']}"
        assert attrs["http.response.status_code"] == 200
        assert "?" not in str(attrs["url.template"])
    assert all(s.context.trace_id == operation.context.trace_id for s in spans)  # type: ignore[union-attr]
    trace_id = f"{operation.context.trace_id:032x}"  # type: ignore[union-attr]
    assert trace_id in crm_emulator.traces.received
    assert trace_id in scm_emulator.traces.received
    sent = [f"{s.context.span_id:016x}" for s in calls]  # type: ignore[union-attr]
    assert len(sent) == len(set(sent))  # each try its own parent id


async def test_no_variable_or_document_reaches_a_span(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    app, exporter = traced(tmp_path, crm, scm)
    secret = "Zebra-Quokka-7731"
    query = "query Find($q: String) { customers(first: 2, search: $q) { nodes { name } } }"
    literal = f'{{ customers(first: 2, search: "{secret}") {{ nodes {{ name }} }} }}'
    async with client(app) as http:
        for body in ({"query": query, "variables": {"q": secret}}, {"query": literal}):
            answer = await http.post("/graphql", json=body)
            assert answer.status_code == 200
            assert "errors" not in answer.json(), answer.text
    spans = exporter.get_finished_spans()
    assert [s for s in spans if s.kind == SpanKind.CLIENT]  # the search reached the CRM
    for span in spans:
        assert secret not in span.name
        assert all(secret not in str(v) for v in (span.attributes or {}).values())


async def test_an_incoming_traceparent_is_joined(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext, scm_emulator: ErpEmulator
) -> None:
    app, exporter = traced(tmp_path, crm, scm)
    caller = "4bf92f3577b34da6a3ce929d0e0e4736"
    header = {"traceparent": f"00-{caller}-00f067aa0ba902b7-01"}
    async with client(app) as http:
        await http.post("/graphql", json={"query": "{ warehouses { id } }"}, headers=header)
    spans = exporter.get_finished_spans()
    assert spans
    assert {f"{s.context.trace_id:032x}" for s in spans} == {caller}  # type: ignore[union-attr]
    assert caller in scm_emulator.traces.received


async def test_a_failing_backend_marks_its_tries(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext, scm_emulator: ErpEmulator
) -> None:
    app, exporter = traced(tmp_path, crm, scm)
    scm_emulator.controls.update({"down": True})
    async with client(app) as http:
        await http.post("/graphql", json={"query": "{ warehouses { id } }"})
    tries = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert len(tries) >= 2  # the first try and its retries
    assert all(dict(s.attributes or {})["http.response.status_code"] == 503 for s in tries)
    assert all(dict(s.attributes or {})["error.type"] == "503" for s in tries)
    assert dict(tries[-1].attributes or {})["http.request.resend_count"] == len(tries) - 1


async def test_off_by_default_no_span_and_no_traceparent(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext, scm_emulator: ErpEmulator
) -> None:
    assert open_tracing(TracingSettings(), {}) is None
    assert open_tracing(TracingSettings(enabled=True), {"OTEL_SDK_DISABLED": "true"}) is None
    app = assemble(gateway_settings(tmp_path), crm=crm, scm=scm)
    async with client(app) as http:
        await http.post("/graphql", json={"query": "{ warehouses { id } }"})
    assert scm_emulator.stats.total > 0
    assert scm_emulator.traces.received == []


def test_the_exporter_follows_otel_traces_exporter() -> None:
    on = TracingSettings(enabled=True)
    tracing = open_tracing(on, {"OTEL_TRACES_EXPORTER": "none", "OTEL_SERVICE_NAME": "gw-7"})
    assert tracing is not None
    assert tracing.provider.resource.attributes["service.name"] == "gw-7"
    assert open_tracing(on, {"OTEL_TRACES_EXPORTER": "console"}) is not None
    assert open_tracing(on, {"OTEL_TRACES_EXPORTER": "otlp"}) is not None


async def test_a_sync_change_is_a_trace_that_both_backends_join(
    tmp_path: Path,
    crm: ZohoCRM,
    scm: ERPNext,
    crm_emulator: ZohoEmulator,
    scm_emulator: ErpEmulator,
) -> None:
    """A change the sync processor applies is a span; the rules' reads and writes are its
    CLIENT children, and both systems receive its trace id."""
    exporter = InMemorySpanExporter()
    tracing = Tracing.with_processor(SimpleSpanProcessor(exporter))
    base = gateway_settings(tmp_path)
    sync = replace(base.sync, enabled=True, inbox_path=str(tmp_path / "sync.sqlite"))
    app: Any = assemble(replace(base, sync=sync), crm=crm, scm=scm, tracing=tracing)
    account = (await crm.list_accounts(first=1, after=None)).items[0].id
    change = Change("crm", "account", account, "update", "notification", datetime.now(UTC))
    await app.state.sync.inbox.put(change)
    assert await app.state.sync.processor.drain() == 1
    spans = list(exporter.get_finished_spans())
    [root] = [s for s in spans if s.name == "crossdock.sync.change"]
    assert root.parent is None
    assert dict(root.attributes or {})["crossdock.sync.entity"] == "account"
    assert account not in str(dict(root.attributes or {}))  # no record ids on the span
    calls = children(spans, root)
    systems = {dict(s.attributes or {})["crossdock.backend.system"] for s in calls}
    assert systems == {"crm", "scm"}  # read the account, then the ERP customer
    trace_id = f"{root.context.trace_id:032x}"  # type: ignore[union-attr]
    assert trace_id in crm_emulator.traces.received
    assert trace_id in scm_emulator.traces.received
