"""The assembled gateway: startup checks, per-role introspection, suggestions, 403, audit."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from gateway.settings import Settings, SettingsError
from gateway.settings.access import PolicySettings
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext
from resolvers.saga import SagaSettings
from resolvers.zoho import ZohoCRM
from tests.support.stack import GATEWAY_URL, ClientFor, token_for

POLICY_FILE = Path(__file__).resolve().parents[2] / "gateway" / "access" / "policy_default.toml"
ROOTS = "{ __schema { queryType { fields { name } } mutationType { name } } }"


async def test_introspection_shows_each_role_only_what_it_may_query(
    client_for: ClientFor,
) -> None:
    partner = await client_for("partner", partner_id="DHL").data(ROOTS)
    roots = {f["name"] for f in partner["__schema"]["queryType"]["fields"]}
    assert roots == {"product", "products", "warehouses", "shipment", "shipments", "viewer"}
    assert partner["__schema"]["mutationType"] is None
    admin = await client_for("admin").data(ROOTS)
    assert {"customers", "orders", "orderProcess"} <= {
        f["name"] for f in admin["__schema"]["queryType"]["fields"]
    }
    assert admin["__schema"]["mutationType"] == {"name": "Mutation"}
    hidden = await client_for("partner", partner_id="DHL").data(
        '{ customer: __type(name: "Customer") { name } '
        'shipment: __type(name: "Shipment") { fields { name } } }'
    )
    assert hidden["customer"] is None
    assert "order" not in {f["name"] for f in hidden["shipment"]["fields"]}


async def test_validation_errors_do_not_suggest_fields_the_caller_cannot_see(
    client_for: ClientFor,
) -> None:
    query = "{ customerz { nodes { id } } }"
    partner = await client_for("partner", partner_id="DHL").query(query)
    admin = await client_for("admin").query(query)
    assert "customer" in admin["errors"][0]["message"].replace("customerz", "")
    message = partner["errors"][0]["message"]
    assert "Did you mean" not in message
    assert "'customer" not in message.replace("'customerz'", "")


async def test_reject_mode_refuses_the_whole_operation_with_403(
    settings: Settings, crm: ZohoCRM, scm: ERPNext
) -> None:
    strict = dataclasses.replace(settings, policy=PolicySettings(mode="reject", audit_log=None))
    app = assemble(strict, crm=crm, scm=scm)
    headers = {"Authorization": f"Bearer {token_for('partner', partner_id='DHL')}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        query = "{ shipments { nodes { id order { number } value { amount } } } }"
        response = await http.post("/graphql", json={"query": query}, headers=headers)
        allowed = await http.post(
            "/graphql", json={"query": "{ shipments { nodes { id } } }"}, headers=headers
        )
    assert response.status_code == 403
    body = response.json()
    assert body["data"] is None
    assert {tuple(e["path"]) for e in body["errors"]} == {
        ("shipments", "nodes", "order"),
        ("shipments", "nodes", "value"),
    }
    assert allowed.status_code == 200


async def test_sensitive_reads_are_appended_to_the_audit_log_without_values(
    client_for: ClientFor, settings: Settings
) -> None:
    data = await client_for("sales").data(
        "query Contacts { customers(first: 2) { nodes { name email } } }"
    )
    assert settings.policy.audit_log is not None
    lines = Path(settings.policy.audit_log).read_text().splitlines()  # noqa: ASYNC240
    entry = json.loads(lines[-1])
    assert entry["subject"] == "test-sales"
    assert entry["operation"] == "Contacts"
    assert entry["fields"] == ["Customer.email"]
    emails = [n["email"] for n in data["customers"]["nodes"] if n["email"]]
    assert emails
    assert not any(email in lines[-1] for email in emails)


async def test_a_policy_that_does_not_fit_the_schema_stops_startup_naming_the_rule(
    settings: Settings, crm: ZohoCRM, scm: ERPNext, tmp_path: Path
) -> None:
    shipped = POLICY_FILE.read_text()
    bad = tmp_path / "policy.toml"
    bad.write_text(shipped + '\n[types.Invoice]\nrequires = [["crm:read"]]\n')
    broken = dataclasses.replace(settings, policy=PolicySettings(path=str(bad), audit_log=None))
    with pytest.raises(SettingsError, match="Invoice"):
        assemble(broken, crm=crm, scm=scm)


async def test_a_missing_journal_key_stops_startup_naming_the_setting(
    settings: Settings, crm: ZohoCRM, scm: ERPNext, tmp_path: Path
) -> None:
    keyless = SagaSettings(journal_path=str(tmp_path / "j.sqlite"))
    with pytest.raises(SettingsError, match=r"saga\.journal_key.*CROSSDOCK_JOURNAL_KEY"):
        assemble(dataclasses.replace(settings, saga=keyless), crm=crm, scm=scm)


async def test_without_the_order_process_the_graph_has_no_mutations(
    settings: Settings, crm: ZohoCRM, scm: ERPNext
) -> None:
    off = dataclasses.replace(settings, saga=SagaSettings(enabled=False))
    app = assemble(off, crm=crm, scm=scm)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token_for('admin')}"}
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        body = (await http.post("/graphql", json={"query": ROOTS}, headers=headers)).json()
    assert body["data"]["__schema"]["mutationType"] is None
    assert "orderProcess" not in {
        f["name"] for f in body["data"]["__schema"]["queryType"]["fields"]
    }


async def test_the_assembled_gateway_serves_the_bi_views_under_the_same_auth(
    client_for: ClientFor,
) -> None:
    listed = await client_for("partner", partner_id="DHL").http.get("/views")
    assert listed.status_code == 200
    assert [view["name"] for view in listed.json()["views"]] == ["shipments"]
    forged = await client_for("partner").http.get(
        "/views", headers={"Authorization": "Bearer not-a-jwt"}
    )
    assert forged.status_code == 401


async def test_a_broken_views_file_stops_startup_naming_it(
    settings: Settings, crm: ZohoCRM, scm: ERPNext, tmp_path: Path
) -> None:
    broken = tmp_path / "views.toml"
    broken.write_text('[views.x]\ndocument = "{ nope }"\n', encoding="utf-8")
    views = dataclasses.replace(settings.views, path=str(broken))
    with pytest.raises(SettingsError, match=r"views .*views\.toml"):
        assemble(dataclasses.replace(settings, views=views), crm=crm, scm=scm)


async def test_view_settings_reach_the_mounted_views(
    settings: Settings, crm: ZohoCRM, scm: ERPNext
) -> None:
    views = dataclasses.replace(settings.views, watermark_overlap_s=3600)
    app = assemble(dataclasses.replace(settings, views=views), crm=crm, scm=scm)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token_for('admin')}"}
    async with httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        response = await http.get("/views/stock_levels.csv", headers=headers)
    assert response.status_code == 200
    watermark = datetime.fromisoformat(response.headers["Crossdock-Watermark"])
    assert datetime.now(UTC) - watermark > timedelta(minutes=59)  # the overlap was applied
