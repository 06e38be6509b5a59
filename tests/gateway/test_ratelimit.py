from __future__ import annotations

import pytest

from gateway.protection.ratelimit import Rate, RateDecision, RateLimiter
from schema.principal import Principal


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def limiter(clock: FakeClock, **options: int) -> RateLimiter:
    return RateLimiter(
        {"partner": Rate(per_second=0.5, burst=3), "admin": Rate(per_second=100, burst=100)},
        default=Rate(per_second=2, burst=5),
        clock=clock,
        **options,
    )


def test_a_burst_over_the_limit_is_denied_with_the_time_until_the_next_token(
    clock: FakeClock,
) -> None:
    rl = limiter(clock)
    decisions = [rl.check("subject:carrier-1", "partner") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after_s == pytest.approx(2.0)
    assert decisions[-1].retry_after_header == "2"


def test_retry_after_is_rounded_up_to_whole_seconds() -> None:
    assert RateDecision(allowed=False, retry_after_s=0.2).retry_after_header == "1"
    assert RateDecision(allowed=False, retry_after_s=2.01).retry_after_header == "3"


def test_waiting_the_retry_after_lets_the_next_request_through(clock: FakeClock) -> None:
    rl = limiter(clock)
    for _ in range(3):
        rl.check("k", "partner")
    denied = rl.check("k", "partner")
    clock.now += denied.retry_after_s
    assert rl.check("k", "partner").allowed
    assert not rl.check("k", "partner").allowed


def test_keys_have_separate_buckets(clock: FakeClock) -> None:
    rl = limiter(clock)
    for _ in range(3):
        rl.check("a", "partner")
    assert not rl.check("a", "partner").allowed
    assert rl.check("b", "partner").allowed


def test_unknown_roles_get_the_default_rate_and_several_roles_the_most_generous(
    clock: FakeClock,
) -> None:
    rl = limiter(clock)
    assert rl.rate_for(["intern"]) == Rate(per_second=2, burst=5)
    assert rl.rate_for(["partner", "admin"]) == Rate(per_second=100, burst=100)


def test_partner_users_share_the_partners_bucket(clock: FakeClock) -> None:
    rl = limiter(clock)
    alice = Principal(subject="alice", roles=frozenset({"partner"}), partner_id="DHL")
    bob = Principal(subject="bob", roles=frozenset({"partner"}), partner_id="DHL")
    assert rl.check_principal(alice).allowed
    assert rl.check_principal(bob).allowed
    assert rl.check_principal(alice).allowed
    assert not rl.check_principal(bob).allowed


def test_a_denied_request_takes_no_token_from_the_other_bucket(clock: FakeClock) -> None:
    rl = limiter(clock)
    alice = Principal(subject="alice", roles=frozenset({"partner"}), partner_id="DHL")
    for _ in range(3):
        rl.check("partner:DHL", "partner")
    assert not rl.check_principal(alice).allowed
    assert [rl.check("subject:alice", "partner").allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]


def test_anonymous_callers_use_the_fallback_key(clock: FakeClock) -> None:
    rl = limiter(clock)
    anonymous = Principal(subject=None)
    for _ in range(5):
        assert rl.check_principal(anonymous, fallback_key="ip:10.0.0.1").allowed
    assert not rl.check_principal(anonymous, fallback_key="ip:10.0.0.1").allowed
    assert rl.check_principal(anonymous, fallback_key="ip:10.0.0.2").allowed


def test_idle_buckets_that_refilled_are_evicted(clock: FakeClock) -> None:
    rl = limiter(clock)
    for n in range(1000):
        rl.check(f"user-{n}")
    clock.now += 10.0
    rl.check("late")
    assert len(rl) == 1


def test_memory_stays_bounded_under_a_flood_of_new_keys(clock: FakeClock) -> None:
    rl = limiter(clock, max_keys=100)
    for n in range(10_000):
        rl.check(f"user-{n}")
    assert len(rl) == 100


def test_a_rate_must_allow_at_least_one_request() -> None:
    with pytest.raises(ValueError, match="burst"):
        Rate(per_second=1, burst=0)


@pytest.mark.parametrize(
    ("per_second", "burst"),
    [
        (float("nan"), 10),  # nan compares false, so `<= 0` alone let it through
        (1, float("nan")),  # a nan burst would never refill nor empty
        (float("inf"), 10),  # an unlimited rate is no rate: leave the role out instead
        (0, 10),  # nothing ever refills
    ],
)
def test_a_rate_must_be_finite_and_positive(per_second: float, burst: float) -> None:
    with pytest.raises(ValueError, match="finite per_second > 0 and burst >= 1"):
        Rate(per_second=per_second, burst=burst)
