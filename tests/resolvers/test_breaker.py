from __future__ import annotations

import pytest

from resolvers.breaker import CircuitBreaker, RetryBudget
from resolvers.errors import BackendUnavailable


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def breaker(clock: FakeClock, **options: object) -> CircuitBreaker:
    settings: dict[str, object] = {"failure_threshold": 3, "window_s": 10.0, "cooldown_s": 5.0}
    settings.update(options)
    return CircuitBreaker("scm", clock=clock, **settings)  # type: ignore[arg-type]


def state_of(b: CircuitBreaker) -> str:
    """The state as a plain string, so a type checker does not narrow it between steps."""
    return b.state


def fail(b: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        b.before_call()
        b.record(success=False)


def test_breaker_stays_closed_below_the_failure_threshold(clock: FakeClock) -> None:
    b = breaker(clock)
    fail(b, 2)
    b.before_call()
    assert state_of(b) == "closed"


def test_breaker_opens_after_threshold_failures_and_fails_fast_naming_system_and_wait(
    clock: FakeClock,
) -> None:
    b = breaker(clock)
    fail(b, 3)
    assert state_of(b) == "open"
    clock.advance(1.5)
    with pytest.raises(BackendUnavailable) as caught:
        b.before_call()
    assert caught.value.code == "BACKEND_UNAVAILABLE"
    assert caught.value.system == "scm"
    assert "scm" in caught.value.message
    assert "next probe in 4 s" in caught.value.message


def test_failures_spread_beyond_the_window_do_not_open_the_breaker(clock: FakeClock) -> None:
    b = breaker(clock)
    for _ in range(5):
        fail(b, 1)
        clock.advance(6.0)
    assert state_of(b) == "closed"


def test_after_cooldown_one_probe_passes_and_its_success_closes_the_breaker(
    clock: FakeClock,
) -> None:
    b = breaker(clock)
    fail(b, 3)
    clock.advance(5.0)
    assert state_of(b) == "half_open"
    b.before_call()  # the probe
    with pytest.raises(BackendUnavailable, match="probe is in progress"):
        b.before_call()
    b.record(success=True)
    assert state_of(b) == "closed"
    b.before_call()


def test_a_failed_probe_opens_the_breaker_for_another_cooldown(clock: FakeClock) -> None:
    b = breaker(clock)
    fail(b, 3)
    clock.advance(5.0)
    b.before_call()
    b.record(success=False)
    assert state_of(b) == "open"
    clock.advance(4.9)
    with pytest.raises(BackendUnavailable):
        b.before_call()
    clock.advance(0.1)
    b.before_call()
    assert state_of(b) == "half_open"


def test_a_probe_that_never_reports_frees_its_slot_after_a_cooldown(clock: FakeClock) -> None:
    b = breaker(clock)
    fail(b, 3)
    clock.advance(5.0)
    b.before_call()  # cancelled: never records
    clock.advance(5.0)
    b.before_call()
    b.record(success=True)
    assert state_of(b) == "closed"


def test_several_half_open_probes_must_all_succeed_to_close(clock: FakeClock) -> None:
    b = breaker(clock, half_open_probes=2)
    fail(b, 3)
    clock.advance(5.0)
    b.before_call()
    b.before_call()
    b.record(success=True)
    assert state_of(b) == "half_open"
    b.record(success=True)
    assert state_of(b) == "closed"


def test_late_outcomes_of_calls_admitted_before_opening_change_nothing(clock: FakeClock) -> None:
    b = breaker(clock)
    fail(b, 3)
    b.record(success=True)
    assert state_of(b) == "open"


def test_breaker_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker("crm", failure_threshold=0)


def test_retry_budget_allows_the_minimum_reserve_without_traffic(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.2, min_per_s=0.5, window_s=10.0, clock=clock)
    assert [budget.can_retry() for _ in range(6)] == [True] * 5 + [False]


def test_retries_cannot_exceed_the_ratio_of_requests(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.2, min_per_s=0.0, window_s=10.0, clock=clock)
    for _ in range(100):
        budget.record_request()
    allowed = sum(budget.can_retry() for _ in range(100))
    assert allowed == 20


def test_retry_budget_refills_as_the_window_slides(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.0, min_per_s=0.1, window_s=10.0, clock=clock)
    assert budget.can_retry()
    assert not budget.can_retry()
    clock.advance(10.0)
    assert budget.can_retry()


def test_retry_budget_forgets_requests_older_than_the_window(clock: FakeClock) -> None:
    budget = RetryBudget(ratio=0.5, min_per_s=0.0, window_s=10.0, clock=clock)
    for _ in range(10):
        budget.record_request()
    clock.advance(11.0)
    assert not budget.can_retry()
