"""The operation deadline bounds a query whose backends both trickle their replies."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
import strawberry

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from gateway.protection.operation_deadline import OperationDeadline
from gateway.settings import Settings, SettingsError, load_settings, parse_settings
from resolvers.breaker import Protection
from resolvers.deadline import time_left
from resolvers.erpnext import ERPNext
from resolvers.zoho import ZohoCRM
from tests.gateway.test_settings import EXAMPLE, SECRET_ENV, minimal
from tests.support.stack import ClientFor, gateway_settings

DEADLINE_S = 1.0
# One byte every 200 ms: each reply would take minutes; the attempt deadlines (15 s by
# default) are far longer than the operation's, so only the operation's can end the query.
TRICKLE = {"trickle_ms": 200, "trickle_bytes": 1}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    base = gateway_settings(tmp_path, operation_deadline_s=DEADLINE_S)
    trip = Protection(failure_threshold=1, cooldown_s=60)  # one failure shows as open
    crm = dataclasses.replace(base.crm, protection=trip)
    return dataclasses.replace(base, crm=crm, scm=dataclasses.replace(base.scm, protection=trip))


async def test_a_query_over_two_trickling_backends_ends_at_the_operation_deadline(
    client_for: ClientFor,
    crm_emulator: ZohoEmulator,
    scm_emulator: ErpEmulator,
    crm: ZohoCRM,
    scm: ERPNext,
) -> None:
    crm_emulator.controls.update(TRICKLE)
    scm_emulator.controls.update(TRICKLE)
    started = time.monotonic()
    body = await client_for("admin").query(
        "{ orders(first: 3) { nodes { number } } warehouses { name } }"
    )
    elapsed = time.monotonic() - started

    errors = {e["path"][0]: e["extensions"] for e in body["errors"]}
    assert errors["orders"]["code"] == "BACKEND_TIMEOUT"
    assert errors["orders"]["system"] == "crm"
    assert errors["warehouses"]["code"] == "BACKEND_TIMEOUT"
    assert errors["warehouses"]["system"] == "scm"
    assert elapsed < 10 * DEADLINE_S  # a generous margin: unbounded, this takes minutes
    # each backend's breaker counted the deadline hit as a failure
    assert crm.requester.breaker is not None
    assert crm.requester.breaker.state == "open"
    assert scm.requester.breaker is not None
    assert scm.requester.breaker.state == "open"


@strawberry.type
class Probe:
    @strawberry.field
    def bounded(self) -> bool:
        return time_left() is not None


@strawberry.type
class ProbeMutation:
    @strawberry.mutation
    def bounded(self) -> bool:
        return time_left() is not None


async def test_queries_run_under_the_deadline_and_mutations_do_not() -> None:
    # a cut between two journaled steps of the order process would leave more to recover
    schema = strawberry.Schema(
        Probe, mutation=ProbeMutation, extensions=[OperationDeadline.factory(5.0)]
    )
    assert (await schema.execute("{ bounded }")).data == {"bounded": True}
    assert (await schema.execute("mutation { bounded }")).data == {"bounded": False}
    assert time_left() is None  # nothing leaks out of the operation


def test_the_deadlines_are_settings_with_sane_defaults() -> None:
    example = load_settings(EXAMPLE, SECRET_ENV)
    assert example.graphql.operation_deadline_s == 30.0
    assert (example.crm.timeouts.attempt, example.scm.timeouts.attempt) == (15.0, 15.0)
    with pytest.raises(SettingsError, match=r"scm\.attempt_deadline_s must be more than 0"):
        parse_settings(minimal(scm={"attempt_deadline_s": 0}))
