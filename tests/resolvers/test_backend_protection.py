"""Circuit breaker and retry budget wired into the request helper, against the real emulations."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from resolvers.breaker import Protection
from resolvers.erpnext import ERPNext
from resolvers.errors import BackendError, BackendUnavailable
from resolvers.http import RetryPolicy
from resolvers.zoho import ZohoCRM
from tests.resolvers.test_breaker import FakeClock
from tests.support.connectors import ERP_URL, SleepSpy, erp_item, erp_options, zoho_options


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def scm_with(
    client: httpx.AsyncClient, sleep: SleepSpy, clock: FakeClock, **options: Any
) -> ERPNext:
    return ERPNext(client, erp_options(**options), sleep=sleep, clock=clock)


def circuit_of(connector: ERPNext | ZohoCRM) -> str:
    breaker = connector.requester.breaker
    assert breaker is not None
    return breaker.state


async def fail_times(scm: ERPNext, times: int) -> None:
    for _ in range(times):
        with pytest.raises(BackendUnavailable, match="returned 500"):
            await scm.list_bins(["SKU-1"])


async def test_a_failing_erpnext_opens_the_circuit_and_later_calls_fail_fast_without_a_request(
    erp_client: httpx.AsyncClient, erp_emulator: ErpEmulator, sleep: SleepSpy, clock: FakeClock
) -> None:
    scm = scm_with(erp_client, sleep, clock, retry=RetryPolicy(attempts=1))
    erp_emulator.controls.update({"error_rate": 1.0})

    await fail_times(scm, 5)
    served = erp_emulator.stats.total
    with pytest.raises(BackendUnavailable) as caught:
        await scm.list_bins(["SKU-1"])

    assert served == 5
    assert erp_emulator.stats.total == served  # failed fast: the backend saw nothing
    assert caught.value.message == (
        "scm is failing: circuit open after 5 failures within 10 s; next probe in 5 s"
    )
    assert caught.value.to_extensions() == {
        "code": "BACKEND_UNAVAILABLE",
        "system": "scm",
        "circuit": "open",
    }


async def test_after_the_cooldown_one_probe_goes_through_and_a_failed_probe_reopens(
    erp_client: httpx.AsyncClient, erp_emulator: ErpEmulator, sleep: SleepSpy, clock: FakeClock
) -> None:
    scm = scm_with(erp_client, sleep, clock, retry=RetryPolicy(attempts=1))
    erp_emulator.controls.update({"error_rate": 1.0})
    await fail_times(scm, 5)

    clock.advance(5.0)
    await fail_times(scm, 1)  # the probe reaches the backend and fails
    with pytest.raises(BackendUnavailable, match="circuit open"):
        await scm.list_bins(["SKU-1"])

    assert erp_emulator.stats.total == 6
    assert circuit_of(scm) == "open"


async def test_a_recovered_backend_closes_the_circuit_after_one_good_probe(
    erp_client: httpx.AsyncClient, erp_emulator: ErpEmulator, sleep: SleepSpy, clock: FakeClock
) -> None:
    erp_emulator.store.insert("Item", [erp_item("SKU-1")])
    scm = scm_with(erp_client, sleep, clock, retry=RetryPolicy(attempts=1))
    erp_emulator.controls.update({"error_rate": 1.0})
    await fail_times(scm, 5)

    erp_emulator.controls.reset()
    clock.advance(5.0)
    assert circuit_of(scm) == "half_open"
    first = await scm.list_bins(["SKU-1"])
    again = await asyncio.gather(*(scm.list_bins(["SKU-1"]) for _ in range(3)))

    assert first == {"SKU-1": []}
    assert circuit_of(scm) == "closed"
    assert all(result == first for result in again)
    assert erp_emulator.stats.total == 5 + 1 + 3


async def test_retries_count_as_failures_so_a_flapping_backend_opens_the_circuit_sooner(
    erp_client: httpx.AsyncClient, erp_emulator: ErpEmulator, sleep: SleepSpy, clock: FakeClock
) -> None:
    scm = scm_with(erp_client, sleep, clock, retry=RetryPolicy(attempts=3))
    erp_emulator.controls.update({"error_rate": 1.0})

    await fail_times(scm, 1)  # three attempts, three failures
    with pytest.raises(BackendUnavailable, match="circuit open"):
        await scm.list_bins(["SKU-1"])  # two more failures open it before the third try

    assert erp_emulator.stats.total == 5
    assert circuit_of(scm) == "open"


async def test_client_errors_are_successes_for_the_breaker(
    erp_client: httpx.AsyncClient, erp_emulator: ErpEmulator, sleep: SleepSpy, clock: FakeClock
) -> None:
    scm = scm_with(erp_client, sleep, clock, retry=RetryPolicy(attempts=1))

    for _ in range(10):  # no credentials: the emulation answers 4xx every time
        response = await scm.requester.send("GET", f"{ERP_URL}/api/resource/Item/NOPE")
        assert 400 <= response.status_code < 500

    assert circuit_of(scm) == "closed"
    assert erp_emulator.stats.total == 10


async def test_throttling_counts_as_a_failure(
    erp_client: httpx.AsyncClient, erp_emulator: ErpEmulator, sleep: SleepSpy, clock: FakeClock
) -> None:
    scm = scm_with(erp_client, sleep, clock, retry=RetryPolicy(attempts=1))
    erp_emulator.controls.update({"throttle_rate": 1.0})

    for _ in range(5):
        with pytest.raises(BackendUnavailable, match="returned 429"):
            await scm.list_bins(["SKU-1"])

    assert circuit_of(scm) == "open"


async def test_a_down_zoho_opens_the_crm_circuit_through_the_token_refresh(
    zoho_client: httpx.AsyncClient, zoho_emulator: ZohoEmulator, sleep: SleepSpy, clock: FakeClock
) -> None:
    options = zoho_options(retry=RetryPolicy(attempts=1))
    crm = ZohoCRM(zoho_client, options, sleep=sleep, clock=clock)
    zoho_emulator.controls.update({"down": True})

    for _ in range(5):
        with pytest.raises(BackendUnavailable, match="returned 503 for POST /oauth/v2/token"):
            await crm.get_accounts(["4150868000000002175"])
    with pytest.raises(BackendUnavailable) as caught:
        await crm.get_accounts(["4150868000000002175"])

    assert zoho_emulator.stats.total == 5
    assert caught.value.message.startswith("crm is failing: circuit open after 5 failures")


async def test_a_burst_of_failing_reads_sends_no_more_retries_than_the_budget_allows(
    erp_client: httpx.AsyncClient, erp_emulator: ErpEmulator, sleep: SleepSpy, clock: FakeClock
) -> None:
    # Breaker out of the way; 20 % of 20 requests plus a reserve of 0.5/s over 10 s = 9 retries.
    protection = Protection(failure_threshold=1000, retry_budget_min_per_s=0.5)
    scm = scm_with(erp_client, sleep, clock, retry=RetryPolicy(attempts=3), protection=protection)
    erp_emulator.controls.update({"error_rate": 1.0})

    outcomes = await asyncio.gather(
        *(scm.list_bins(["SKU-1"]) for _ in range(20)), return_exceptions=True
    )

    assert all(isinstance(o, BackendUnavailable) for o in outcomes)
    assert erp_emulator.stats.total <= 20 + 9  # without the budget: 20 x 3 = 60
    assert len(sleep.delays) == erp_emulator.stats.total - 20
    exhausted = [o for o in outcomes if "retry budget" in str(o)]
    assert exhausted
    assert str(exhausted[0]).endswith(
        "not retried further: the retry budget of ERPNext is exhausted (too many retries lately)"
    )


async def test_protection_can_be_turned_off(
    erp_client: httpx.AsyncClient, erp_emulator: ErpEmulator, sleep: SleepSpy, clock: FakeClock
) -> None:
    protection = Protection(enabled=False)
    scm = scm_with(erp_client, sleep, clock, retry=RetryPolicy(attempts=1), protection=protection)
    erp_emulator.controls.update({"error_rate": 1.0})

    await fail_times(scm, 12)

    assert scm.requester.breaker is None
    assert erp_emulator.stats.total == 12


async def test_a_breaker_is_shared_by_all_requests_of_one_connector_only(
    erp_client: httpx.AsyncClient, erp_emulator: ErpEmulator, sleep: SleepSpy, clock: FakeClock
) -> None:
    failing = scm_with(erp_client, sleep, clock, retry=RetryPolicy(attempts=1))
    other = scm_with(erp_client, sleep, clock, retry=RetryPolicy(attempts=1))
    erp_emulator.controls.update({"error_rate": 1.0})
    await asyncio.gather(*(fail_times(failing, 1) for _ in range(5)))

    with pytest.raises(BackendError, match="returned 500"):
        await other.list_bins(["SKU-1"])  # a separate connector has its own circuit

    assert circuit_of(failing) == "open"
    assert circuit_of(other) == "closed"
