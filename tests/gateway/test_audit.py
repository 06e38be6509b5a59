"""Sensitive reads leave one JSON line each: who, which operation, which fields; never values."""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.access.audit import AuditLog
from gateway.access.extension import access_extension
from gateway.access.policy import Policy
from tests.gateway.contract_schema import contract_schema, principal_for, run

QUERY = 'query OrderPage { customer(id: "C1") { name email creditLimit { amount } } }'


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.jsonl", clock=lambda: datetime(2026, 3, 1, 10, 0, tzinfo=UTC))


def _lines(log: AuditLog) -> list[dict[str, Any]]:
    if not log.path.exists():
        return []
    return [json.loads(line) for line in log.path.read_text().splitlines()]


async def test_a_response_with_pii_appends_one_line_naming_the_fields_but_not_the_values(
    log: AuditLog,
) -> None:
    policy = Policy.load(None)
    schema = contract_schema([access_extension(policy, mode="null", audit=log)])
    result, _ = await run(schema, QUERY, principal_for("sales", policy))
    assert result.data is not None
    assert result.data["customer"]["email"] == "jane.doe@example.com"
    assert _lines(log) == [
        {
            "time": "2026-03-01T10:00:00Z",
            "subject": "user-sales",
            "roles": ["sales"],
            "operation": "OrderPage",
            "documentSha256": hashlib.sha256(QUERY.encode()).hexdigest(),
            "fields": ["Customer.email"],  # creditLimit was denied to sales, so not returned
        }
    ]
    text = log.path.read_text()
    assert "jane.doe" not in text
    assert "Acme" not in text
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


async def test_finance_reads_are_audited_and_masked_values_are_not(log: AuditLog) -> None:
    policy = Policy.load(None)
    schema = contract_schema([access_extension(policy, mode="null", audit=log)])
    await run(schema, QUERY, principal_for("analyst", policy))
    (line,) = _lines(log)
    assert line["fields"] == ["Customer.creditLimit"]  # the email came back masked


async def test_responses_without_sensitive_fields_write_nothing(log: AuditLog) -> None:
    policy = Policy.load(None)
    schema = contract_schema([access_extension(policy, mode="null", audit=log)])
    await run(
        schema,
        '{ customer(id: "C1") { name } products { nodes { sku } } }',
        principal_for("admin", policy),
    )
    await run(schema, QUERY, principal_for("partner", policy))  # denied: nothing returned
    assert _lines(log) == []


async def test_each_sensitive_response_adds_its_own_line(log: AuditLog) -> None:
    policy = Policy.load(None)
    schema = contract_schema([access_extension(policy, mode="null", audit=log)])
    query = "{ shipments { nodes { destination { city } } } customers { nodes { phone } } }"
    await run(schema, query, principal_for("admin", policy))
    await run(schema, query, principal_for("logistics", policy))
    admin, logistics = _lines(log)
    assert admin["fields"] == ["Customer.phone", "Shipment.destination"]
    assert logistics["fields"] == ["Shipment.destination"]
    assert logistics["operation"] is None
