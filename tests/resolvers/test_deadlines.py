"""Deadlines on backend calls: a backend that trickles its reply ends by the deadline, as a
BACKEND_TIMEOUT the circuit breaker counts; no attempt or retry runs past the operation's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from backends.erpnext.app import ErpEmulator
from backends.serve import serving
from backends.zoho.app import ZohoEmulator
from resolvers.breaker import Protection
from resolvers.deadline import operation_deadline
from resolvers.erpnext import ERPNext
from resolvers.errors import BackendTimeout, BackendUnavailable
from resolvers.http import RetryPolicy, Timeouts
from resolvers.zoho import ZohoCRM
from tests.support.connectors import SleepSpy, erp_options, zoho_options

# One byte every 200 ms: even `{"data":[]}` takes 2 s, and bytes keep coming faster than
# the read timeout below (0.5 s), so only a deadline on the whole reply ends it.
TRICKLE = {"trickle_ms": 200, "trickle_bytes": 1}
# opens the circuit at the first failure, so a recorded failure shows as an open circuit
TRIP_AT_ONCE = Protection(failure_threshold=1, cooldown_s=60)


@pytest.fixture
async def erp_over_socket(erp_emulator: ErpEmulator) -> AsyncIterator[str]:
    """The ERPNext emulation behind uvicorn: httpx's read timeout is real here."""
    async with serving(erp_emulator.app, "127.0.0.1", 0, timeout_graceful_shutdown=1) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.mark.sockets
async def test_a_trickling_backend_ends_at_the_attempt_deadline_and_trips_the_breaker(
    erp_over_socket: str, erp_emulator: ErpEmulator, sleep: SleepSpy
) -> None:
    erp_emulator.controls.update(TRICKLE)
    options = erp_options(
        base_url=erp_over_socket,
        timeouts=Timeouts(connect=1.0, read=0.5, attempt=1.0),  # read 0.5 s never fires
        retry=RetryPolicy(attempts=1),
        protection=TRIP_AT_ONCE,
    )
    async with httpx.AsyncClient() as client:
        scm = ERPNext(client, options, sleep=sleep)
        with pytest.raises(BackendTimeout) as caught:
            await scm.list_bins(["SKU-1"])
        served = erp_emulator.stats.total
        with pytest.raises(BackendUnavailable) as fast:
            await scm.list_bins(["SKU-1"])

    assert caught.value.code == "BACKEND_TIMEOUT"
    assert "within the attempt deadline of 1s" in caught.value.message
    assert scm.requester.breaker is not None
    assert scm.requester.breaker.state == "open"  # the deadline hit counted as a failure
    assert fast.value.extensions.get("circuit") == "open"
    assert erp_emulator.stats.total == served  # the open circuit sent nothing


async def test_the_trickle_knob_works_on_the_zoho_emulation_too(
    zoho_client: httpx.AsyncClient, zoho_emulator: ZohoEmulator, sleep: SleepSpy
) -> None:
    zoho_emulator.controls.update(TRICKLE)
    options = zoho_options(
        timeouts=Timeouts(attempt=0.5), retry=RetryPolicy(attempts=1), protection=TRIP_AT_ONCE
    )
    crm = ZohoCRM(zoho_client, options, sleep=sleep)
    with pytest.raises(BackendTimeout) as caught:
        await crm.get_accounts(["1"])

    assert caught.value.code == "BACKEND_TIMEOUT"
    assert caught.value.system == "crm"
    assert crm.requester.breaker is not None
    assert crm.requester.breaker.state == "open"


async def test_no_retry_waits_past_the_operation_deadline(
    erp_client: httpx.AsyncClient, erp_emulator: ErpEmulator, sleep: SleepSpy
) -> None:
    erp_emulator.controls.update({"throttle_rate": 1.0, "retry_after_s": 30})
    scm = ERPNext(erp_client, erp_options(retry=RetryPolicy(retry_after_max_s=60)), sleep=sleep)
    with operation_deadline(5.0), pytest.raises(BackendUnavailable):
        await scm.list_bins(["SKU-1"])

    assert sleep.delays == []  # a 30 s Retry-After does not fit in a 5 s operation
    assert erp_emulator.stats.total == 1


async def test_no_call_starts_once_the_operation_deadline_has_passed(
    erp_client: httpx.AsyncClient, erp_emulator: ErpEmulator, sleep: SleepSpy
) -> None:
    scm = ERPNext(erp_client, erp_options(protection=TRIP_AT_ONCE), sleep=sleep)
    with operation_deadline(0.0), pytest.raises(BackendTimeout) as caught:
        await scm.list_bins(["SKU-1"])

    assert "the operation deadline of 0s had passed" in caught.value.message
    assert erp_emulator.stats.total == 0
    assert scm.requester.breaker is not None
    assert scm.requester.breaker.state == "closed"  # nothing was asked of the backend


async def test_calls_within_their_deadlines_are_untouched(
    scm: ERPNext, erp_emulator: ErpEmulator
) -> None:
    erp_emulator.controls.update({"trickle_ms": 1, "trickle_bytes": 4096})
    with operation_deadline(30.0):
        warehouses = await scm.list_warehouses()

    assert warehouses
