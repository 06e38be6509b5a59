from __future__ import annotations

import asyncio

import httpx
import pytest

from backends.zoho.app import ZohoEmulator, ZohoSettings
from backends.zoho.store import ZohoStore
from tests.support.zoho_emulation import BASE_URL, token_for

GRANT = {
    "grant_type": "refresh_token",
    "client_id": "crossdock-demo",
    "client_secret": "crossdock-demo-secret",
    "refresh_token": "crossdock-demo-refresh",
}


async def test_refresh_grant_in_a_form_returns_a_token_and_this_servers_api_domain(
    anonymous: httpx.AsyncClient,
) -> None:
    reply = await anonymous.post("/oauth/v2/token", data=GRANT)
    body = reply.json()
    assert reply.status_code == 200
    assert body["api_domain"] == BASE_URL
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"]


async def test_refresh_grant_in_the_query_string_is_accepted(anonymous: httpx.AsyncClient) -> None:
    reply = await anonymous.post("/oauth/v2/token", params=GRANT)
    assert "access_token" in reply.json()


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"refresh_token": "stale"}, "invalid_code"),  # what real Zoho says for a bad refresh token
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
    ],
)
async def test_a_bad_grant_gets_zohos_error_key_with_http_200(
    anonymous: httpx.AsyncClient, override: dict[str, str], error: str
) -> None:
    reply = await anonymous.post("/oauth/v2/token", data={**GRANT, **override})
    assert reply.status_code == 200
    assert reply.json() == {"error": error}


@pytest.mark.parametrize(
    "header",
    [
        None,  # no header at all
        "Zoho-oauthtoken not-a-token",  # unknown token
        "Bearer {token}",  # a live token under the wrong scheme
    ],
)
async def test_api_calls_without_a_live_zoho_oauthtoken_get_401_invalid_token(
    anonymous: httpx.AsyncClient, header: str | None
) -> None:
    token = await token_for(anonymous)
    headers = {"Authorization": header.format(token=token)} if header else {}
    reply = await anonymous.get(
        "/crm/v8/Accounts", params={"fields": "Account_Name"}, headers=headers
    )
    assert reply.status_code == 401
    assert reply.json() == {
        "code": "INVALID_TOKEN",
        "message": "invalid oauth token",
        "status": "error",
        "details": {},
    }


async def test_tokens_expire_after_the_configured_lifetime(store: ZohoStore) -> None:
    emulator = ZohoEmulator(store, ZohoSettings(token_ttl_s=0.05))
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        headers = {"Authorization": f"Zoho-oauthtoken {await token_for(client)}"}
        fresh = await client.get("/crm/v8/Accounts", params={"fields": "id"}, headers=headers)
        await asyncio.sleep(0.1)
        stale = await client.get("/crm/v8/Accounts", params={"fields": "id"}, headers=headers)
    assert fresh.status_code == 204
    assert stale.status_code == 401


async def test_expire_tokens_invalidates_tokens_mid_run_and_a_refresh_recovers(
    emulator: ZohoEmulator, client: httpx.AsyncClient
) -> None:
    emulator.expire_tokens()
    expired = await client.get("/crm/v8/Accounts", params={"fields": "id"})
    client.headers["Authorization"] = f"Zoho-oauthtoken {await token_for(client)}"
    renewed = await client.get("/crm/v8/Accounts", params={"fields": "id"})
    assert expired.json()["code"] == "INVALID_TOKEN"
    assert renewed.status_code == 204
