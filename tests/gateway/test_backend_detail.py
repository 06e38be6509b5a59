"""Backend failures reach callers as a code, the system and a neutral message; the backend's
own words (paths, validation text) go to the log under the request id (issue 12).

The ERP emulation rejects for real: the gateway's `[scm] company` names a company the ERP
does not have, so mirroring an approved order is Frappe's 417 LinkValidationError. Reads fail
through the emulation's fault knobs. `[policy] backend_detail_roles` shows the detail to
the roles it names (none by default).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest

from backends.erpnext.app import ErpEmulator
from gateway.settings import Settings, parse_settings
from gateway.settings.saga import parse_saga
from tests.gateway.test_settings import minimal
from tests.gateway.test_wiring_orders import PLACE, order_input
from tests.gateway.test_wiring_orders import seeded_stores as seeded_stores  # fresh per test
from tests.support.stack import JOURNAL_KEY, ClientFor, GraphQLClient, gateway_settings

APPROVE = """mutation($id: ID!) { approveOrder(id: $id) { status error { code step message } } }"""
PROCESS = """query($id: ID!) { orderProcess(id: $id) {
  error { code message } steps { step state message } } }"""
SHIPMENTS = "{ shipments(first: 2) { nodes { id } } }"
BACKEND_WORDS = ("ERPNext", "/api/", "Company", "LinkValidationError", "returned", "417")


def _settings(tmp_path: Path, detail_roles: list[str]) -> Settings:
    base = gateway_settings(tmp_path, policy={"backend_detail_roles": detail_roles})
    saga = {
        "journal_path": str(tmp_path / "orders.sqlite"),
        "journal_key": JOURNAL_KEY,
        "approval": {"max_auto_approve_total": "0.01"},  # held: approveOrder mirrors it
    }
    scm = dataclasses.replace(base.scm, company="Nowhere Trading Ltd")
    return dataclasses.replace(base, saga=parse_saga(saga, {}), scm=scm)


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    return _settings(tmp_path, getattr(request, "param", []))


def _with_request_id(client: GraphQLClient, request_id: str) -> GraphQLClient:
    client.http.headers["x-request-id"] = request_id
    return client


async def _rejected_approval(client_for: ClientFor, request_id: str) -> dict[str, Any]:
    admin = client_for("admin")
    placed = await admin.data(PLACE, input=await order_input(admin), key="k-rejected")
    process_id = placed["placeOrder"]["processId"]
    approved = await _with_request_id(admin, request_id).data(APPROVE, id=process_id)
    return {"approve": approved["approveOrder"], "id": process_id}


def _neutral(message: str, request_id: str) -> None:
    assert message.startswith("The ERP refused the request") or message.startswith(
        "A backend system refused the request"
    ), message
    assert f"request id {request_id}" in message
    assert not [word for word in BACKEND_WORDS if word in message], message


async def test_a_rejected_mirror_reads_neutrally_and_its_detail_is_logged_with_the_request_id(
    client_for: ClientFor, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="crossdock.errors"):
        outcome = await _rejected_approval(client_for, "rq-rejected-1")
    error = outcome["approve"]["error"]
    assert error["code"] == "BACKEND_REJECTED", outcome
    _neutral(error["message"], "rq-rejected-1")
    logged = [r.getMessage() for r in caplog.records if "rq-rejected-1" in r.getMessage()]
    assert any("Could not find Company: Nowhere Trading Ltd" in m for m in logged), logged
    later = _with_request_id(client_for("admin"), "rq-later")  # the journal's copy, read later
    process = (await later.data(PROCESS, id=outcome["id"]))["orderProcess"]
    assert process["error"]["code"] == "BACKEND_REJECTED"
    _neutral(process["error"]["message"], "rq-later")
    assert "Nowhere" not in str(process), process
    failed = [s for s in process["steps"] if s["state"] == "failed"]
    assert failed
    assert all(s["message"].startswith("BACKEND_REJECTED: ") for s in failed)


@pytest.mark.parametrize("settings", [["admin"]], indirect=True)
async def test_roles_named_in_backend_detail_roles_read_the_backends_own_message(
    client_for: ClientFor,
) -> None:
    outcome = await _rejected_approval(client_for, "rq-rejected-2")
    assert "Could not find Company: Nowhere Trading Ltd" in outcome["approve"]["error"]["message"]


async def test_a_failing_read_tells_the_code_and_system_and_logs_the_backends_words(
    client_for: ClientFor, scm_emulator: ErpEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    scm_emulator.controls.update({"error_rate": 1.0})
    partner = _with_request_id(client_for("partner", partner_id="DHL"), "rq-read-1")
    with caplog.at_level(logging.WARNING, logger="crossdock.errors"):
        body = await partner.query(SHIPMENTS)
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "BACKEND_UNAVAILABLE",
        "system": "scm",
        "requestId": "rq-read-1",
    }
    assert error["message"] == (
        "The ERP is unavailable; retry later (details are logged under request id rq-read-1)."
    )
    logged = " ".join(r.getMessage() for r in caplog.records if "rq-read-1" in r.getMessage())
    assert "ERPNext returned 500" in logged
    assert "/api/resource/Shipment" in logged


def test_backend_detail_roles_is_a_list_of_roles() -> None:
    assert parse_settings(minimal()).policy.backend_detail_roles == frozenset()
    roles = parse_settings(minimal(policy={"backend_detail_roles": ["admin"]})).policy
    assert roles.backend_detail_roles == {"admin"}
    with pytest.raises(ValueError, match=r"policy\.backend_detail_roles must be a list"):
        parse_settings(minimal(policy={"backend_detail_roles": "admin"}))
