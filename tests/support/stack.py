"""Helpers for the tests under tests/ (fixtures: its conftest.py)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from backends.erpnext.store import ErpStore
from backends.seed import seed
from backends.zoho.store import ZohoStore
from gateway.auth.tokens import mint
from gateway.settings import Settings, parse_settings
from gateway.settings.saga import parse_saga

ZOHO_URL = "http://zoho.test"


ERP_URL = "http://erp.test"


GATEWAY_URL = "http://gateway.test"


# 30 accounts, 11 products, 300 orders, ~130 shipments: enough for pages of 200 orders
SEED_SCALE = 0.15


JWT_SECRET = "crossdock-test-secret-0123456789-0123456789-abcdef"


JOURNAL_KEY = base64.b64encode(bytes(range(32))).decode()


async def no_sleep(seconds: float) -> None:
    """Retries back off without waiting, so fault tests stay fast."""


@dataclass(frozen=True)
class SeededStores:
    zoho: ZohoStore
    erp: ErpStore


def fresh_stores(tmp: Path, *, random_seed: int) -> SeededStores:
    """Small emulation stores of the test's own (scale 0.05): for tests that write to both
    systems, so they never touch the session's shared seeded stores."""
    stores = SeededStores(ZohoStore(tmp / "zoho.sqlite3"), ErpStore(tmp / "erpnext.sqlite3"))
    seed(stores.zoho, stores.erp, scale=0.05, random_seed=random_seed)
    return stores


def order_process_settings(tmp: Path, **approval: Any) -> Settings:
    """Test settings with the order process on: its journal in `tmp`, `approval` its
    `[saga.approval]` table (e.g. max_auto_approve_total="0.01": every order is held)."""
    saga = {
        "journal_path": str(tmp / "orders.sqlite"),
        "journal_key": JOURNAL_KEY,
        "approval": approval,
    }
    return replace(gateway_settings(tmp), saga=parse_saga(saga, {}))


def gateway_settings(
    tmp: Path | None = None, *, policy: dict[str, Any] | None = None, **graphql: Any
) -> Settings:
    """Test settings; with `tmp`, the audit log and the order journal live there."""
    state: dict[str, Any] = {"policy": {"audit_log": ""}, "saga": {"enabled": False}}
    if tmp is not None:
        state = {
            "policy": {"audit_log": str(tmp / "audit.log")},
            "saga": {"journal_path": str(tmp / "orders.sqlite"), "journal_key": JOURNAL_KEY},
        }
    state["policy"].update(policy or {})
    return parse_settings(
        {
            **state,
            "auth": {"hs256_secret": JWT_SECRET},
            "crm": {
                "accounts_url": ZOHO_URL,
                "client_id": "crossdock-demo",
                "client_secret": "crossdock-demo-secret",
                "refresh_token": "crossdock-demo-refresh",
                "retries": 1,
            },
            "scm": {
                "base_url": ERP_URL,
                "api_key": "crossdock-demo",
                "api_secret": "crossdock-demo-secret",
                "connect_timeout_s": 0.5,
                "read_timeout_s": 0.5,
                "retries": 1,
            },
            "graphql": graphql,
            # tests walk many pages quickly; tests/gateway/test_hardening_* test the limit itself
            "rate_limits": {"default": {"per_second": 10_000, "burst": 10_000}},
        }
    )


def token_for(
    role: str | None = "admin", *, partner_id: str | None = None, scopes: tuple[str, ...] = ()
) -> str:
    """A valid test token for `role` (None: no role, only `scopes`)."""
    roles = [] if role is None else [role]
    return mint(
        JWT_SECRET, subject=f"test-{role}", roles=roles, partner_id=partner_id, scopes=scopes
    )


class GraphQLClient:
    """Posts GraphQL to the gateway over its HTTP surface and returns the decoded body."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client

    async def query(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """The data of a response that must have no errors."""
        body = await self.query(query, **variables)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result


ClientFor = Callable[..., GraphQLClient]
