"""The emulation answers as the Fxiaoke docs say: HTTP 200 always, errorCode, token lifetimes."""

from __future__ import annotations

import httpx

from backends.fxiaoke.app import FxiaokeEmulator, FxiaokeSettings
from tests.support.fxiaoke_emulation import FakeClock, FxCaller, app_credentials, legacy_auth

TOKEN = "/cgi/corpAccessToken/get/V2"
QUERY = "/cgi/crm/v2/data/query"
ACCOUNTS = {"dataObjectApiName": "AccountObj", "search_query_info": {"limit": 1, "offset": 0}}


async def test_an_unknown_path_is_http_200_with_error_code_10006(
    anonymous: httpx.AsyncClient,
) -> None:
    response = await anonymous.post("/cgi/crm/v2/data/nothing", json={})
    assert response.status_code == 200
    assert response.json()["errorCode"] == 10006


async def test_a_get_is_not_a_verb_and_still_answers_200(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(QUERY)
    assert (response.status_code, response.json()["errorCode"]) == (200, 10006)


async def test_a_body_that_is_not_json_is_a_business_error(fx: FxCaller) -> None:
    response = await fx.client.post(QUERY, content=b"{not json")
    assert response.status_code == 200
    assert response.json()["errorCode"] != 0


async def test_success_carries_error_code_0_and_a_trace_id(fx: FxCaller) -> None:
    reply = await fx.call(QUERY, ACCOUNTS)
    assert reply["errorCode"] == 0
    assert reply["traceId"].startswith("E-O.")


async def test_a_call_without_corp_access_token_gets_10013(anonymous: httpx.AsyncClient) -> None:
    reply = (await anonymous.post(QUERY, json={"data": ACCOUNTS})).json()
    assert reply["errorCode"] == 10013


async def test_a_wrong_app_secret_gets_10006(anonymous: httpx.AsyncClient) -> None:
    body = app_credentials() | {"appSecret": "wrong"}
    assert (await anonymous.post(TOKEN, json=body)).json()["errorCode"] == 10006


async def test_the_same_token_comes_back_within_6600_seconds(
    anonymous: httpx.AsyncClient, clock: FakeClock
) -> None:
    first = (await anonymous.post(TOKEN, json=app_credentials())).json()
    clock.advance(6599)
    again = (await anonymous.post(TOKEN, json=app_credentials())).json()
    assert again["corpAccessToken"] == first["corpAccessToken"]
    assert first["expiresIn"] == 7200
    assert again["expiresIn"] == 601


async def test_after_6600_seconds_a_new_token_while_the_old_one_lives_to_7200(
    anonymous: httpx.AsyncClient, clock: FakeClock
) -> None:
    old = await legacy_auth(anonymous)
    clock.advance(6700)
    new = await legacy_auth(anonymous)
    assert new["corpAccessToken"] != old["corpAccessToken"]
    assert (await FxCaller(anonymous, old).call(QUERY, ACCOUNTS))["errorCode"] == 0
    clock.advance(500)  # 7,200 s after the old token was issued
    assert (await FxCaller(anonymous, old).call(QUERY, ACCOUNTS))["errorCode"] == 20016
    assert (await FxCaller(anonymous, new).call(QUERY, ACCOUNTS))["errorCode"] == 0


async def test_an_expired_token_gets_20016(fx: FxCaller, emulator: FxiaokeEmulator) -> None:
    emulator.expire_tokens()
    assert (await fx.call(QUERY, ACCOUNTS))["errorCode"] == 20016


async def test_a_wrong_corp_id_gets_20017(fx: FxCaller) -> None:
    wrong = FxCaller(fx.client, fx.auth | {"corpId": "FSCID_OTHER"})
    assert (await wrong.call(QUERY, ACCOUNTS))["errorCode"] == 20017


async def test_the_new_bearer_token_with_ea_and_userid_headers_works(
    anonymous: httpx.AsyncClient, clock: FakeClock
) -> None:
    body = app_credentials() | {"grantType": "app_secret"}
    token = (await anonymous.post("/oauth2.0/token", json=body)).json()
    assert token["errorCode"] == 0
    assert token["expiresIn"] == 7200
    headers = {
        "authorization": f"Bearer {token['accessToken']}",
        "x-fs-ea": token["ea"],
        "x-fs-userid": FxiaokeSettings().employee_id,
    }
    reply = await anonymous.post(QUERY, json={"data": ACCOUNTS}, headers=headers)
    assert reply.json()["errorCode"] == 0
    clock.advance(7200)
    reply = await anonymous.post(QUERY, json={"data": ACCOUNTS}, headers=headers)
    assert reply.json()["errorCode"] == 20005


async def test_the_two_generations_may_not_be_mixed(fx: FxCaller) -> None:
    body = {**fx.auth, "data": ACCOUNTS}
    response = await fx.client.post(QUERY, json=body, headers={"authorization": "Bearer x"})
    assert response.json()["errorCode"] != 0
