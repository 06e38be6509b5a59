"""A bounded schemathesis GraphQL fuzz run against the assembled gateway: no 5xx, ever.

schemathesis introspects the production app (admin token) and generates ~100 operations from
its schema (arguments of every type, nested selections); each goes through the whole stack
(HTTP guard, auth, limits, access control, loaders, connectors, the in-process emulations).
The test is synchronous: schemathesis drives the ASGI app through its own test client.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from backends.erpnext.app import ErpEmulator
from backends.zoho.app import ZohoEmulator
from gateway.settings import Settings
from gateway.wiring import assemble
from resolvers.erpnext import ERPNext, ERPNextOptions
from resolvers.http import RetryPolicy
from resolvers.zoho import ZohoCRM, ZohoOptions
from tests.support.stack import ERP_URL, ZOHO_URL, gateway_settings, no_sleep, token_for

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis runs the fuzz test")
MAX_EXAMPLES = 100
HEADERS = {"authorization": f"Bearer {token_for('admin')}", "x-crossdock-csrf": "1"}


def fuzz_app(crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator, config: Settings) -> Any:
    """The production app over connectors that hold no event-loop state until first use."""
    crm_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=crm_emulator.app), base_url=ZOHO_URL
    )
    scm_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=scm_emulator.app), base_url=ERP_URL
    )
    crm = ZohoCRM(
        crm_http,
        ZohoOptions(
            accounts_url=ZOHO_URL,
            client_id=config.crm.client_id,
            client_secret=config.crm.client_secret,
            refresh_token=config.crm.refresh_token,
            retry=RetryPolicy(attempts=1),
        ),
        sleep=no_sleep,
    )
    scm = ERPNext(
        scm_http,
        ERPNextOptions(
            base_url=ERP_URL,
            api_key=config.scm.api_key,
            api_secret=config.scm.api_secret,
            retry=RetryPolicy(attempts=1),
        ),
        sleep=no_sleep,
    )
    return assemble(config, crm=crm, scm=scm)


def test_a_bounded_graphql_fuzz_run_never_gets_a_5xx(
    crm_emulator: ZohoEmulator, scm_emulator: ErpEmulator
) -> None:
    app = fuzz_app(crm_emulator, scm_emulator, gateway_settings())
    schema = schemathesis.graphql.from_asgi("/graphql", app, headers=HEADERS)
    server_errors: list[str] = []

    @given(case=schema.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(headers=HEADERS)
        if response.status_code >= 500:
            server_errors.append(f"{response.status_code} for {case.body!r}: {response.text}")

    run()
    assert not server_errors, "\n".join(server_errors[:5])
