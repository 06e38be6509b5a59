"""A repeated document is walked once per access profile (gateway.access.analysis.SharedAnalyses).

The verdicts of an operation depend on its document, its operation name and the caller's
authentication, roles and scopes. Callers that agree on all of these share one walk; each
still gets its own principal (audit lines, the analysis' owner) and its own row filters
(from its claims). A caller whose roles or scopes differ is walked again. Spies count the
walks (tests.support.access_spy); the answers come from the real policy.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from graphql import parse

from gateway.access.analysis import SharedAnalyses
from gateway.access.audit import AuditLog
from gateway.access.extension import access_extension
from gateway.access.policy import Policy
from tests.gateway.contract_schema import contract_schema, principal_for, run
from tests.support.access_spy import AccessSpy
from tests.support.stack import ClientFor

SHIPMENTS = "{ shipments(first: 50) { nodes { id carrier } } }"
CUSTOMER = 'query Page { customer(id: "C1") { name email } }'


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> AccessSpy:
    return AccessSpy.install(monkeypatch)


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.jsonl", clock=lambda: datetime(2026, 3, 1, 10, 0, tzinfo=UTC))


def _carriers(body: dict[str, Any]) -> set[str]:
    assert "errors" not in body, body
    return {node["carrier"] for node in body["data"]["shipments"]["nodes"]}


async def test_partners_share_the_walk_but_each_reads_only_its_own_rows(
    client_for: ClientFor, spy: AccessSpy
) -> None:
    dhl = await client_for("partner", partner_id="DHL").query(SHIPMENTS)
    assert (spy.walks, spy.row_filters) == (1, 1)
    ups = await client_for("partner", partner_id="UPS").query(SHIPMENTS)
    assert (spy.walks, spy.row_filters) == (1, 2)  # no second walk; its own row filters
    assert _carriers(dhl) == {"DHL"}
    assert _carriers(ups) == {"UPS"}
    unbound = await client_for("partner").query(SHIPMENTS)  # the role, not the claim
    assert (spy.walks, spy.row_filters) == (1, 3)
    assert unbound["data"]["shipments"]["nodes"] == []


async def test_other_roles_are_walked_again_and_decided_for_themselves(
    client_for: ClientFor, spy: AccessSpy
) -> None:
    admin = await client_for("admin").query(SHIPMENTS)
    partner = await client_for("partner", partner_id="DHL").query(SHIPMENTS)
    assert spy.walks == 2
    assert len(_carriers(admin)) > 1  # no row rule binds an admin
    assert _carriers(partner) == {"DHL"}
    again = await client_for("admin").query(SHIPMENTS)
    assert spy.walks == 2  # the admin's walk was kept
    assert again == admin


async def test_each_caller_is_audited_and_masked_as_itself(spy: AccessSpy, log: AuditLog) -> None:
    policy = Policy.load(None)
    schema = contract_schema([access_extension(policy, mode="null", audit=log)])
    sales = principal_for("sales", policy)
    other = dataclasses.replace(sales, subject="user-other-sales")
    first, _ = await run(schema, CUSTOMER, sales)
    second, context = await run(schema, CUSTOMER, other)
    assert spy.walks == 1
    assert context.analysis is not None
    assert context.analysis.principal == other
    assert first.data == second.data
    assert second.data is not None
    assert second.data["customer"]["email"] == "jane.doe@example.com"
    analyst, _ = await run(schema, CUSTOMER, principal_for("analyst", policy))
    assert spy.walks == 2
    assert analyst.data is not None
    assert analyst.data["customer"]["email"] != "jane.doe@example.com"  # masked for analysts
    lines = [json.loads(line) for line in log.path.read_text().splitlines()]
    assert [line["subject"] for line in lines] == ["user-sales", "user-other-sales"]


def test_the_kept_walks_are_bounded(spy: AccessSpy) -> None:
    policy = Policy.load(None)
    schema = contract_schema()._schema
    shared = SharedAnalyses(policy, size=2)
    admin = principal_for("admin", policy)
    texts = [
        "{ orders { nodes { id } } }",
        "{ shipments { nodes { id } } }",
        "{ viewer { roles } }",
    ]

    def analyse(text: str) -> None:
        shared.analyse(admin, schema, parse(text), query=text, operation_name=None)

    for text in texts:
        analyse(text)
    assert spy.walks == 3
    analyse(texts[2])
    analyse(texts[1])
    assert spy.walks == 3  # the two most recent are kept
    analyse(texts[0])
    assert spy.walks == 4  # the oldest was dropped


def test_an_operation_name_is_part_of_the_key(spy: AccessSpy) -> None:
    policy = Policy.load(None)
    schema = contract_schema()._schema
    shared = SharedAnalyses(policy)
    partner = principal_for("partner", policy)
    text = "query A { shipments { nodes { id } } } query B { orders { nodes { id } } }"
    document = parse(text)
    a = shared.analyse(partner, schema, document, query=text, operation_name="A")
    b = shared.analyse(partner, schema, document, query=text, operation_name="B")
    assert spy.walks == 2
    assert not a.denials
    assert b.denials  # a partner may not read orders
