"""A small run of the bench code inside `make test`: the floor client must build exactly the
gateway's JSON (else the latency ratio compares different work), over either CRM (the floor
tests run over Zoho and Fxiaoke: tests/conftest.py BOTH_CRMS), and the timing helpers must
count what they claim. The full benchmark is `python -m bench`, not part of the suite."""

from __future__ import annotations

import asyncio
import cProfile
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends.erpnext.app import ErpEmulator
from bench.__main__ import Plan, run
from bench.floor import ErpFloor, Floor, FloorClient
from bench.floor_fxiaoke import FxiaokeFloor
from bench.harness import BENCH_MAX_COST, CRMS, Timing, measure
from bench.report import Row, profile_summary, table, targets
from bench.workloads import GatewayClient, Workload, mismatch, order_list, order_page
from gateway.settings import Settings
from gateway.settings.hardening import parse_limits
from tests.support.fxiaoke_emulation import FXIAOKE_URL
from tests.support.stack import ERP_URL, ZOHO_URL, GraphQLClient, gateway_settings

# An order id that cannot be found, in each CRM's id format.
UNKNOWN_ORDER = {"zoho": "5725767999999999999", "fxiaoke": "0" * 24}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The suite's gateway settings with the bench's cost limit: the default refuses W2."""
    base = gateway_settings(tmp_path)
    return replace(base, limits=parse_limits({"max_cost": BENCH_MAX_COST}, {}))


async def _floor_client(
    crm_kind: str, crm_emulator: Any, scm_emulator: ErpEmulator, *, batching: bool
) -> AsyncIterator[Floor]:
    base = FXIAOKE_URL if crm_kind == "fxiaoke" else ZOHO_URL
    crm = httpx.AsyncClient(transport=httpx.ASGITransport(app=crm_emulator.app), base_url=base)
    erp = httpx.AsyncClient(transport=httpx.ASGITransport(app=scm_emulator.app), base_url=ERP_URL)
    kind = FxiaokeFloor if crm_kind == "fxiaoke" else FloorClient
    async with crm, erp:
        client = kind(crm, erp, batching=batching)
        await client.start()
        yield client


@pytest.fixture
async def floor(
    crm_kind: str, crm_emulator: Any, scm_emulator: ErpEmulator
) -> AsyncIterator[Floor]:
    async for client in _floor_client(crm_kind, crm_emulator, scm_emulator, batching=True):
        yield client


@pytest.fixture
async def unbatched(
    crm_kind: str, crm_emulator: Any, scm_emulator: ErpEmulator
) -> AsyncIterator[Floor]:
    async for client in _floor_client(crm_kind, crm_emulator, scm_emulator, batching=False):
        yield client


def _calls(crm_emulator: Any, scm_emulator: ErpEmulator) -> int:
    return crm_emulator.stats.total + scm_emulator.stats.total


async def _shipped_order(gql: GraphQLClient) -> str:
    data = await gql.data("{ orders(first: 100) { nodes { id lines { sku } shipments { id } } } }")
    shipped = [o for o in data["orders"]["nodes"] if o["shipments"] and len(o["lines"]) > 1]
    return str(shipped[0]["id"])


async def _same_json(workload: Workload, http: httpx.AsyncClient, floor: Floor) -> None:
    expected = await GatewayClient(http).run(workload)
    assert mismatch(expected, await workload.floor(floor)) is None


async def test_the_floor_builds_the_gateways_order_page(
    gql: GraphQLClient, http: httpx.AsyncClient, floor: Floor
) -> None:
    await _same_json(order_page(await _shipped_order(gql)), http, floor)


@pytest.mark.parametrize("first", [10, 200])  # one batch; past Frappe's 100-key chunks
async def test_the_floor_builds_the_gateways_order_list(
    first: int, http: httpx.AsyncClient, floor: Floor
) -> None:
    await _same_json(order_list(first), http, floor)


async def test_the_floor_answers_an_unknown_order_with_null(floor: Floor, crm_kind: str) -> None:
    assert await order_page(UNKNOWN_ORDER[crm_kind]).floor(floor) == {"order": None}


async def test_without_batching_the_same_json_costs_a_call_per_key(
    http: httpx.AsyncClient,
    floor: Floor,
    unbatched: Floor,
    crm_emulator: Any,
    scm_emulator: ErpEmulator,
) -> None:
    workload = order_list(20)
    before = _calls(crm_emulator, scm_emulator)
    batched = await workload.floor(floor)
    middle = _calls(crm_emulator, scm_emulator)
    one_by_one = await workload.floor(unbatched)
    after = _calls(crm_emulator, scm_emulator)
    assert mismatch(batched, one_by_one) is None
    # Zoho: orders, products; Fxiaoke: orders, lines, products. ERPNext: warehouses, bins,
    # shipments x3 (shipments, their delivery-note links, the notes' items), mirrors.
    assert middle - before <= 9
    assert after - middle > 3 * (middle - before)


async def test_the_gateway_client_refuses_an_answer_with_errors(http: httpx.AsyncClient) -> None:
    broken = Workload("broken", "{ order(id: null) { id } }", {}, order_list(1).floor)
    with pytest.raises(Exception, match="broken: gateway"):
        await GatewayClient(http).run(broken)


async def test_measure_stops_at_the_requests_asked_and_keeps_the_concurrency() -> None:
    running, peak = 0, 0

    async def call() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1

    timing = await measure(call, requests=20, concurrency=4, budget_s=10)
    assert (timing.requests, peak) == (20, 4)
    assert timing.rps > 0


async def test_measure_stops_when_the_time_budget_is_spent() -> None:
    timing = await measure(lambda: asyncio.sleep(0.02), requests=1000, concurrency=1, budget_s=0.1)
    assert 3 <= timing.requests <= 10


def test_percentiles_are_nearest_rank() -> None:
    timing = Timing(tuple(float(n) for n in range(1, 101)), wall_s=1.0)
    assert (timing.percentile(0.5), timing.percentile(0.95), timing.percentile(1.0)) == (
        50.0,
        95.0,
        100.0,
    )


def test_mismatch_names_the_first_differing_path() -> None:
    left = {"orders": {"nodes": [{"id": "1", "lines": [{"sku": "A"}]}]}}
    right = {"orders": {"nodes": [{"id": "1", "lines": [{"sku": "B"}]}]}}
    assert mismatch(left, right) == "data.orders.nodes[0].lines[0].sku: 'A' != 'B'"
    assert mismatch(left, left) is None


def _row(workload: str, latency: int, system: str, calls: float, ratio: float | None) -> Row:
    return Row(workload, latency, system, calls, 10.0, 12.0, 90.0, 200.0, 5.0, 80.0, ratio)


def test_the_targets_name_page_sizes_that_cost_different_calls_and_missed_ratios() -> None:
    rows = [
        _row("W1 order page", 20, "gateway", 12, 1.2),
        _row("W2 orders(10)", 20, "gateway", 12, 1.1),
        _row("W2 orders(200)", 20, "gateway", 17, 1.5),
        _row("W2 orders(200)", 20, "floor", 8, None),
    ]
    text = targets(rows)
    assert "at 20 ms: NO (orders(10): 12, orders(200): 17; floor: 8)" in text
    assert "W1 order page at 20 ms: p50 1.20× the floor (≤ 1.30×: met)" in text
    assert "W2 orders(200) at 20 ms: p50 1.50× the floor (≤ 1.30×: MISSED)" in text
    assert "at most the floor's at 20 ms: NO (orders(10): 12, orders(200): 17; floor: 8)" in text


def test_where_pages_hold_100_rows_only_the_floors_calls_are_the_target() -> None:
    rows = [_row("W2 orders(10)", 0, "gateway", 9, 1.0), _row("W2 orders(10)", 0, "floor", 9, None)]
    rows += [
        _row("W2 orders(200)", 0, "gateway", 16, 1),
        _row("W2 orders(200)", 0, "floor", 16, None),
    ]
    text = targets(rows, flat_calls=False)
    assert "identical for every page size" not in text
    assert "at most the floor's at 0 ms: yes (orders(10): 9, orders(200): 16; floor: 9, 16)" in text


def test_the_table_has_one_line_per_measurement_with_dashes_where_none_applies() -> None:
    lines = table([_row("W1 order page", 0, "floor", 8, None)]).splitlines()
    assert len(lines) == 3
    assert lines[2].endswith("| 5.0 | 80 | – |")


def test_the_profile_summary_shares_busy_time_by_area(tmp_path: Path) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(json.dumps, {"rows": list(range(20_000))})
    profiler.dump_stats(tmp_path / "run.prof")
    summary = profile_summary(tmp_path / "run.prof", requests=1)
    assert summary.startswith("Busy CPU under cProfile:")
    assert "| json |" in summary


@pytest.mark.sockets
@pytest.mark.parametrize("crm", CRMS)
async def test_a_tiny_run_over_real_processes_reports_every_system(
    tmp_path: Path, crm: str
) -> None:
    plan = Plan(
        requests_c1=2, requests_c16=4, budget_s=0.5, warmup=0, latencies=(0,), sizes=(10,),
        profile_requests=0,
    )  # fmt: skip
    document = await run(plan, tmp_path, scale=0.1, profile=False, crm=crm)
    rows = [line for line in document.splitlines() if line.startswith("| W")]
    systems = [(line.split(" | ")[0], line.split(" | ")[2]) for line in rows]
    assert systems == [
        ("| W1 order page", "gateway"), ("| W1 order page", "floor"),
        ("| W1 order page", "batching off"), ("| W2 orders(10)", "gateway"),
        ("| W2 orders(10)", "floor"), ("| W2 orders(10)", "batching off"),
    ]  # fmt: skip
    assert document.startswith(
        f"## Benchmarks over {'Fxiaoke' if crm == 'fxiaoke' else 'Zoho CRM'}"
    )
    assert "- machine: " in document
    assert "W2 backend calls at most the floor's at 0 ms: yes" in document
    if crm == "zoho":
        assert "W2 backend calls identical for every page size at 0 ms: yes" in document


class _ClosedOnce(httpx.AsyncBaseTransport):
    """The emulation's transport, whose first request meets a connection the server closed."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.failed = inner, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.failed:
            self.failed += 1
            raise httpx.ReadError("connection closed by the server", request=request)
        return await self.inner.handle_async_request(request)


async def test_the_floor_tries_a_read_again_when_its_connection_was_closed(
    scm_emulator: ErpEmulator,
) -> None:
    transport = _ClosedOnce(httpx.ASGITransport(app=scm_emulator.app))
    async with httpx.AsyncClient(transport=transport, base_url=ERP_URL) as erp:
        warehouses = await ErpFloor(erp).warehouses()
    assert transport.failed == 1
    assert warehouses
