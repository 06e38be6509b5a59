"""The hardening settings wired into the assembled gateway: rate limits (429 + Retry-After),
trusted documents, limits per role, backend protection (the circuit breaker through HTTP).

Each test builds the production app (`gateway.wiring.assemble`) from settings parsed the way
`crossdock serve` parses them, over the in-process emulations.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from backends.erpnext.app import ErpEmulator
from gateway.settings import Settings, SettingsError, parse_settings
from gateway.wiring import assemble
from resolvers.breaker import Protection
from resolvers.erpnext import ERPNext, ERPNextOptions
from resolvers.http import RetryPolicy
from resolvers.zoho import ZohoCRM
from tests.support.stack import ERP_URL, GATEWAY_URL, gateway_settings, no_sleep, token_for

ACCEPT = {"accept": "application/graphql-response+json", "x-crossdock-csrf": "1"}
VIEWER = "{ viewer { roles } }"
PARTNER_QUERY = "{ viewer { partnerId } }"


def settings_with(tmp: Path, **sections: Any) -> Settings:
    """The test settings with some sections replaced, parsed like a TOML file."""
    base = gateway_settings(tmp)
    document: dict[str, Any] = {
        "auth": {"hs256_secret": base.auth.hs256_secret},
        "crm": {
            "accounts_url": base.crm.accounts_url,
            "client_id": base.crm.client_id,
            "client_secret": base.crm.client_secret,
            "refresh_token": base.crm.refresh_token,
        },
        "scm": {"base_url": ERP_URL, "api_key": "k", "api_secret": "s"},
        "policy": {"audit_log": ""},
        "saga": {"enabled": False},
    }
    return parse_settings({**document, **sections})


@asynccontextmanager
async def gateway(settings: Settings, crm: Any, scm: Any) -> AsyncIterator[Callable[..., Any]]:
    """A client factory `client(role, partner_id=..., subject=...)` for the assembled app."""
    app = assemble(settings, crm=crm, scm=scm)
    transport = httpx.ASGITransport(app=app)
    opened: list[httpx.AsyncClient] = []

    def client(role: str = "admin", **claims: Any) -> httpx.AsyncClient:
        token = token_for(role, **claims)
        headers = {**ACCEPT, "authorization": f"Bearer {token}"}
        opened.append(httpx.AsyncClient(transport=transport, base_url=GATEWAY_URL, headers=headers))
        return opened[-1]

    async with app.router.lifespan_context(app):
        yield client
    for http in opened:
        await http.aclose()


async def test_a_burst_over_the_rate_limit_gets_429_with_a_correct_retry_after(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    rates = {"default": {"per_second": 0.5, "burst": 3}}
    async with gateway(settings_with(tmp_path, rate_limits=rates), crm, scm) as client:
        http = client("admin")
        allowed = [await http.post("/graphql", json={"query": VIEWER}) for _ in range(3)]
        refused = await http.post("/graphql", json={"query": VIEWER})

    assert [response.status_code for response in allowed] == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "2"  # one token refills in 1 / 0.5 s
    error = refused.json()["errors"][0]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 2}


async def test_callers_of_one_partner_share_its_bucket_and_roles_get_their_own_rate(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    rates = {
        "default": {"per_second": 100, "burst": 100},
        "roles": {"partner": {"per_second": 0.1, "burst": 2}},
    }
    async with gateway(settings_with(tmp_path, rate_limits=rates), crm, scm) as client:
        first = client("partner", partner_id="DHL")
        other = client("admin")
        assert (await first.post("/graphql", json={"query": PARTNER_QUERY})).status_code == 200
        assert (await first.post("/graphql", json={"query": PARTNER_QUERY})).status_code == 200
        third = await first.post("/graphql", json={"query": PARTNER_QUERY})
        admin = await other.post("/graphql", json={"query": VIEWER})

    assert third.status_code == 429
    # one token at 0.1/s is at most 10 s away, less by however long the three requests took
    assert 1 <= int(third.headers["retry-after"]) <= 10
    assert admin.status_code == 200


def write_manifest(tmp: Path, document: str) -> tuple[Path, str]:
    digest = hashlib.sha256(document.encode()).hexdigest()
    path = tmp / "operations.json"
    path.write_text(json.dumps({digest: document}), encoding="utf-8")
    return path, digest


async def test_partners_run_only_persisted_operations_and_unknown_ids_are_not_found(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    manifest, digest = write_manifest(tmp_path, PARTNER_QUERY)
    trusted = {"manifest": str(manifest), "persisted_only_roles": ["partner"]}
    async with gateway(settings_with(tmp_path, trusted_documents=trusted), crm, scm) as client:
        dhl = client("partner", partner_id="DHL")
        by_id = await dhl.post("/graphql", json={"documentId": f"sha256:{digest}"})
        over_get = await dhl.get("/graphql", params={"documentId": digest})
        unknown = await dhl.post("/graphql", json={"documentId": "sha256:" + "0" * 64})
        free_text = await dhl.post("/graphql", json={"query": "{ viewer { subject } }"})
        admin = await client("admin").post("/graphql", json={"query": VIEWER})

    assert by_id.status_code == 200
    assert by_id.json() == {"data": {"viewer": {"partnerId": "DHL"}}}
    assert over_get.json() == by_id.json()
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert free_text.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
    assert admin.status_code == 200


async def test_limits_differ_by_role(tmp_path: Path, crm: ZohoCRM, scm: ERPNext) -> None:
    limits = {"max_depth": 12, "roles": {"partner": {"max_depth": 1}}}
    async with gateway(settings_with(tmp_path, limits=limits), crm, scm) as client:
        partner = await client("partner", partner_id="DHL").post(
            "/graphql", json={"query": PARTNER_QUERY}
        )
        admin = await client("admin").post("/graphql", json={"query": VIEWER})

    assert partner.status_code == 400
    error = partner.json()["errors"][0]
    assert error["extensions"] == {"code": "QUERY_TOO_DEEP", "limit": 1, "measured": 2}
    assert admin.status_code == 200


def load_hardening(tmp: Path, sections: dict[str, Any]) -> None:
    settings_with(tmp, **sections).trusted_documents.load()


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"limits": {"max_detph": 3}}, "unknown key(s) in [limits]: max_detph"),
        ({"limits": {"roles": {"partner": {"max_body_bytes": 5}}}}, "cannot differ by role"),
        ({"rate_limits": {"default": {"per_second": 0, "burst": 1}}}, "per_second > 0"),
        ({"trusted_documents": {"persisted_only_roles": ["partner"]}}, "needs a manifest"),
        ({"trusted_documents": {"manifest": "/nope.json"}}, "cannot read the manifest"),
        ({"server": {"cors_origins": ["*"]}}, "may not be '*'"),
        ({"server": {"tls_cert_file": "cert.pem"}}, "go together"),
        ({"server": {"forwarded_allow_ips": ["*"]}}, "may not be '*'"),
        ({"server": {"forwarded_allow_ips": ["lb.internal"]}}, "'lb.internal' is not an IP"),
        ({"server": {"forwarded_allow_ips": "10.0.0.1"}}, "must be a list of proxy addresses"),
    ],
)
def test_bad_hardening_settings_name_the_key_and_the_fix(
    tmp_path: Path, sections: dict[str, Any], message: str
) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_hardening(tmp_path, sections)


def test_backend_protection_knobs_reach_the_connector_options(tmp_path: Path) -> None:
    scm = {
        "base_url": ERP_URL,
        "api_key": "k",
        "api_secret": "s",
        "protection": {"failure_threshold": 2, "cooldown_s": 0.5, "enabled": True},
    }
    options = settings_with(tmp_path, scm=scm).scm

    assert options.protection.failure_threshold == 2
    assert options.protection.cooldown_s == 0.5


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_failing_backend_fails_fast_through_http_then_recovers(
    tmp_path: Path, crm: ZohoCRM, scm_emulator: ErpEmulator
) -> None:
    clock = FakeClock()
    transport = httpx.ASGITransport(app=scm_emulator.app)
    protection = Protection(failure_threshold=2, cooldown_s=30.0)
    options = ERPNextOptions(
        base_url=ERP_URL, api_key="crossdock-demo", api_secret="crossdock-demo-secret",
        retry=RetryPolicy(attempts=1), protection=protection,
    )  # fmt: skip
    query = {"query": "{ warehouses { id } }"}
    async with httpx.AsyncClient(transport=transport, base_url=ERP_URL) as backend:
        scm = ERPNext(backend, options, sleep=no_sleep, clock=clock)
        async with gateway(settings_with(tmp_path), crm, scm) as client:
            http = client("admin")
            scm_emulator.controls.update({"down": True})
            failing = [await http.post("/graphql", json=query) for _ in range(2)]
            calls_before = scm_emulator.stats.total
            fast = await http.post("/graphql", json=query)
            calls_during = scm_emulator.stats.total - calls_before
            scm_emulator.controls.update({"down": False})
            clock.now += 31.0
            recovered = await http.post("/graphql", json=query)

    for response in [*failing, fast]:
        assert response.json()["errors"][0]["extensions"]["code"] == "BACKEND_UNAVAILABLE"
    assert calls_during == 0
    assert recovered.status_code == 200
    assert recovered.json()["data"]["warehouses"]


async def test_cors_admits_a_configured_origin_and_no_other(
    tmp_path: Path, crm: ZohoCRM, scm: ERPNext
) -> None:
    server = {"cors_origins": ["https://app.example"]}
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }
    async with gateway(settings_with(tmp_path, server=server), crm, scm) as client:
        http = client("admin")
        allowed = await http.options(
            "/graphql", headers={**preflight, "origin": "https://app.example"}
        )
        other = await http.options(
            "/graphql", headers={**preflight, "origin": "https://evil.example"}
        )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers


def test_trusted_proxies_reach_uvicorn_and_without_them_none_are_trusted(
    tmp_path: Path,
) -> None:
    from gateway.cli import uvicorn_options

    proxied = settings_with(tmp_path, server={"forwarded_allow_ips": ["10.0.0.0/8", "::1"]})
    options = uvicorn_options(proxied, host=None, port=None)
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "10.0.0.0/8,::1"
    plain = uvicorn_options(settings_with(tmp_path), host=None, port=None)
    assert (plain["proxy_headers"], plain["forwarded_allow_ips"]) == (False, "")
