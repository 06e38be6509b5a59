"""`/metrics` of the production app over HTTP (ASGI) against the emulations: operations by
name, type and outcome with durations, errors by code, backend tries by route template and
outcome, breaker states, rate-limit refusals; loopback and allowlisted scrapers only."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from backends.erpnext.app import ErpEmulator
from gateway.observe.metrics import Metrics
from gateway.settings.hardening import parse_rate_limits
from gateway.settings.metrics import parse_metrics
from gateway.settings.sync import SyncSettings
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.saga import Journal, Sealer
from resolvers.saga.state import LineInput, OrderInput, ProcessState, ProcessStatus
from resolvers.sync import Change
from resolvers.zoho import ZohoCRM
from tests.support.stack import GATEWAY_URL, JOURNAL_KEY, gateway_settings, token_for

Make = Callable[..., Starlette]


@pytest.fixture
def make(tmp_path: Path, crm: ZohoCRM, scm: ERPNext) -> Make:
    """The production app with `[metrics]` (and `[rate_limits]`) sections as given."""

    def build(
        metrics: dict[str, Any] | None = None, rate_limits: dict[str, Any] | None = None
    ) -> Starlette:
        settings = gateway_settings(tmp_path)
        changes: dict[str, Any] = {"metrics": parse_metrics(metrics or {}, {})}
        if rate_limits is not None:
            changes["rate_limits"] = parse_rate_limits(rate_limits, {})
        return assemble(replace(settings, **changes), crm=crm, scm=scm)

    return build


def client(app: Starlette, address: str = "127.0.0.1", role: str = "admin") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)),
        base_url=GATEWAY_URL,
        headers={"Authorization": f"Bearer {token_for(role)}"},
    )


async def post(http: httpx.AsyncClient, query: str) -> httpx.Response:
    return await http.post("/graphql", json={"query": query})


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (labels in any order)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_operations_errors_and_backend_calls_are_counted(make: Make) -> None:
    app = make()
    http = client(app)
    ok = await http.post(
        "/graphql",
        json={"query": "query Orders { orders(first: 5) { nodes { number customer { name } } } }"},
    )
    assert ok.status_code == 200
    bad = await http.post("/graphql", json={"query": "query Oops { orders { nope } }"})
    assert bad.status_code == 200
    text = (await http.get("/metrics")).text
    ops = "crossdock_graphql_operations_total"
    assert sample(text, ops, operation="Orders", type="query", outcome="ok") == 1
    assert sample(text, ops, operation="Oops", outcome="refused") == 1
    assert sample(text, "crossdock_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    seconds = "crossdock_graphql_operation_duration_seconds_count"
    assert sample(text, seconds, operation="Orders", type="query") == 1
    tries = "crossdock_backend_requests_total"
    assert (
        sample(text, tries, system="crm", route="/crm/v8/Sales_Orders", method="GET", outcome="200")
        == 1
    )
    assert "crossdock_backend_request_duration_seconds_bucket" in text
    assert sample(text, "crossdock_backend_breaker_state", system="scm", state="closed") == 1


async def test_record_ids_are_folded_into_route_templates(make: Make) -> None:
    app = make()
    http = client(app)
    number = (
        await http.post("/graphql", json={"query": "{ orders(first: 1) { nodes { id } } }"})
    ).json()
    order_id = number["data"]["orders"]["nodes"][0]["id"]
    await http.post("/graphql", json={"query": f'{{ order(id: "{order_id}") {{ number }} }}'})
    text = (await http.get("/metrics")).text
    assert order_id not in text
    routes = set(re.findall(r'route="([^"]*)"', text))
    assert all("{" in r or not re.search(r"/\d{6,}", r) for r in routes), routes


async def test_a_failing_backend_shows_in_outcomes_retries_and_the_breaker(
    make: Make, scm_emulator: ErpEmulator
) -> None:
    app = make()
    http = client(app)
    scm_emulator.controls.update({"error_rate": 1.0})
    for _ in range(3):
        await http.post("/graphql", json={"query": "{ warehouses { id } }"})
    text = (await http.get("/metrics")).text
    tries = "crossdock_backend_requests_total"
    assert sample(text, tries, system="scm", route="/api/resource/Warehouse", outcome="500") >= 5
    assert sample(text, "crossdock_backend_retries_total", system="scm") >= 1
    assert sample(text, "crossdock_backend_breaker_state", system="scm", state="open") == 1


async def test_operation_names_past_the_bound_fold_into_other(make: Make) -> None:
    app = make(metrics={"max_operations": 2})
    http = client(app)
    for name in ("A", "B", "C", "D"):
        await http.post("/graphql", json={"query": f"query {name} {{ viewer {{ subject }} }}"})
    text = (await http.get("/metrics")).text
    ops = "crossdock_graphql_operations_total"
    assert sample(text, ops, operation="A") == 1
    assert sample(text, ops, operation="B") == 1
    assert sample(text, ops, operation="other") == 2
    assert 'operation="C"' not in text


async def test_rate_limit_refusals_are_counted(make: Make) -> None:
    app = make(rate_limits={"default": {"per_second": 0.001, "burst": 1}})
    http = client(app)
    for _ in range(3):
        await http.post("/graphql", json={"query": "{ viewer { subject } }"})
    text = (await http.get("/metrics")).text
    assert sample(text, "crossdock_rate_limit_refusals_total", reason="requests") == 2


async def test_only_loopback_and_the_allowlist_may_scrape(make: Make) -> None:
    app = make(metrics={"allow": ["10.0.0.0/8"]})
    assert (await client(app, "127.0.0.1").get("/metrics")).status_code == 200
    assert (await client(app, "10.1.2.3").get("/metrics")).status_code == 200
    outside = await client(app, "203.0.113.9").get("/metrics")
    assert outside.status_code == 404
    assert "crossdock_" not in outside.text


async def test_metrics_off_means_no_route(make: Make) -> None:
    app = make(metrics={"enabled": False})
    assert (await client(app).get("/metrics")).status_code == 404


async def test_sync_inbox_depth_lag_and_unfinished_orders_are_read_when_scraped(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    settings = gateway_settings(tmp_path)
    sync = SyncSettings(enabled=True, inbox_path=str(tmp_path / "sync.sqlite"))
    app = assemble(replace(settings, sync=sync), crm=crm, scm=scm)  # processor not started
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    for record in ("A1", "A2"):
        change = Change("crm", "account", record, "update", "poll", an_hour_ago, an_hour_ago)
        assert await app.state.sync.put(change)
    text = (await client(app).get("/metrics")).text
    assert sample(text, "crossdock_sync_changes", system="crm", state="pending") == 2
    assert sample(text, "crossdock_sync_changes", system="erp", state="pending") == 0
    assert 3500 < sample(text, "crossdock_sync_lag_seconds", system="crm") < 36000
    assert sample(text, "crossdock_sync_lag_seconds", system="erp") == 0
    assert "\ncrossdock_order_processes_unfinished 0.0" in text
    assert "\ncrossdock_subscriptions_open 0.0" in text


async def test_unfinished_order_processes_are_counted_from_a_real_journal(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "orders.sqlite", Sealer.from_base64(JOURNAL_KEY))
    metrics = Metrics()
    metrics.watch_order_processes(journal)
    now = datetime.now(UTC)
    for key in ("k-1", "k-2"):
        order = OrderInput("ACC-1", (LineInput("SKU-A", Decimal(1)),))
        state = ProcessState(f"p-{key}", key, "fingerprint", order, now, now)  # RUNNING
        assert journal.claim(state) is None
    held = ProcessState("p-held", "k-3", "fingerprint", order, now, now)
    assert journal.claim(held) is None
    journal.save(replace(held, status=ProcessStatus.PENDING_APPROVAL))
    await metrics.refresh()
    text = metrics.render().decode()
    assert "\ncrossdock_order_processes_unfinished 2.0" in text
    assert sample(text, "crossdock_order_processes", status="RUNNING") == 2
    assert sample(text, "crossdock_order_processes", status="PENDING_APPROVAL") == 1
    assert sample(text, "crossdock_order_processes", status="NEEDS_ATTENTION") == 0
    journal.close()
